package emulator

import "net/http"

type gitServer struct{}

func (g *gitServer) serve(w http.ResponseWriter, r *http.Request) bool { return false }
