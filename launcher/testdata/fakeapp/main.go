// Command fakeapp stands in for app-token in the launcher's tests: it prints
// its arguments, a few variables and its process ID, then exits as FAKE_EXIT
// says.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

var version = "dev"

func main() {
	fmt.Printf("fakeapp %s version=%s\n", strings.Join(os.Args[1:], " "), version)
	fmt.Printf("INPUT_CLIENT-ID=%s\n", os.Getenv("INPUT_CLIENT-ID"))
	fmt.Printf("pid=%d\n", os.Getpid())
	if os.Getenv("FAKE_WAIT") != "" {
		fmt.Println("ready")
		time.Sleep(time.Minute)
	}
	code, _ := strconv.Atoi(os.Getenv("FAKE_EXIT"))
	os.Exit(code)
}
