package emulator

// oauthState holds the OAuth device codes, authorization codes and user
// tokens the emulator has issued.
type oauthState struct{}

// routeOAuth mounts GitHub's OAuth endpoints (/login/...) and GET /user.
func (s *Server) routeOAuth() {}
