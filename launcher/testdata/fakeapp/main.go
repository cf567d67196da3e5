// Command fakeapp stands in for app-token in the launcher's tests: it prints
// its arguments, a few variables, its process ID and whether it was built
// with the noschemacheck tag, then exits as FAKE_EXIT says.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

var version = "dev"

// schemaCheck is "off" in a build with the noschemacheck tag (schemacheck_off.go).
var schemaCheck = "on"

func main() {
	fmt.Printf("fakeapp %s version=%s\n", strings.Join(os.Args[1:], " "), version)
	fmt.Printf("INPUT_CLIENT-ID=%s\n", os.Getenv("INPUT_CLIENT-ID"))
	fmt.Printf("pid=%d\n", os.Getpid())
	fmt.Printf("schemacheck=%s\n", schemaCheck)
	if os.Getenv("FAKE_WAIT") != "" {
		fmt.Println("ready")
		time.Sleep(time.Minute)
	}
	code, _ := strconv.Atoi(os.Getenv("FAKE_EXIT"))
	os.Exit(code)
}
