//go:build !noschemacheck

package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/org/app-token/internal/openapi"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The schema check holds every answer of a REST route to the response
// schema GitHub's description gives for its operation and status
// (internal/openapi/responses.json). It uses santhosh-tekuri/jsonschema
// rather than pb33f/libopenapi-validator: the vendored file is plain JSON
// Schema 2020-12 (scripts/trim-openapi.mjs converts OpenAPI 3.0's nullable
// and discriminators), so a small validator with no dependencies of its own
// suffices, where libopenapi-validator would parse a whole OpenAPI document
// and bring a YAML stack and an OpenAPI model into the emulator.

// builtInCheck is the check every emulator starts with. The schemas are
// compiled on the first answer, once per process.
var builtInCheck answerCheck = func(pattern string, status int, header http.Header, body []byte) string {
	set, err := responseSchemas()
	if err != nil {
		return "emulator: vendored response schemas: " + err.Error()
	}
	return set.check(pattern, status, header, body)
}

// responseSchemas are the vendored schemas, compiled once per process.
var responseSchemas = sync.OnceValues(func() (*schemaSet, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(openapi.ResponsesJSON))
	if err != nil {
		return nil, fmt.Errorf("responses.json: %w", err)
	}
	var index struct {
		Operations map[string]map[string]json.RawMessage `json:"operations"`
	}
	if err := json.Unmarshal(openapi.ResponsesJSON, &index); err != nil {
		return nil, fmt.Errorf("responses.json: %w", err)
	}
	c := jsonschema.NewCompiler()
	const loc = "mem://github/responses.json"
	if err := c.AddResource(loc, doc); err != nil {
		return nil, err
	}
	set := &schemaSet{ops: map[string]map[string]*jsonschema.Schema{}}
	for op, statuses := range index.Operations {
		set.ops[op] = map[string]*jsonschema.Schema{}
		for status, raw := range statuses {
			if string(raw) == "null" {
				set.ops[op][status] = nil
				continue
			}
			ptr := "/operations/" + pointerToken(op) + "/" + status
			sch, err := c.Compile(loc + "#" + (&url.URL{Fragment: ptr}).EscapedFragment())
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", op, status, err)
			}
			set.ops[op][status] = sch
		}
	}
	if set.basicError, err = c.Compile(loc + "#/$defs/basic-error"); err != nil {
		return nil, err
	}
	return set, nil
})

func pointerToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

type schemaSet struct {
	// ops maps "METHOD /path" to status to schema (nil: no JSON body).
	ops        map[string]map[string]*jsonschema.Schema
	basicError *jsonschema.Schema
}

// wildcardRest turns a ServeMux wildcard "{name...}" into the
// description's "{name}".
var wildcardRest = regexp.MustCompile(`\{([a-z_]+)\.\.\.\}`)

// operation maps a route pattern ("GET /api/v3/app/installations/{id}") to
// its operation in the description ("GET /app/installations/{id}").
func operation(pattern string) string {
	method, path, _ := strings.Cut(pattern, " ")
	path = strings.TrimPrefix(path, "/api/v3")
	return method + " " + wildcardRest.ReplaceAllString(path, "{$1}")
}

// check says how an answer to the REST route pattern ("/": the catch-all)
// breaks the description, or "" if it does not.
func (set *schemaSet) check(pattern string, status int, header http.Header, body []byte) string {
	op := operation(pattern)
	statuses, described := set.ops[op]
	sch, ok := statuses[strconv.Itoa(status)]
	switch {
	case pattern == "/" || !described:
		// The catch-all (501) and faults on unknown paths: an error body.
		if !described && pattern != "/" {
			return fmt.Sprintf("%s is served but not in the vendored description: add it to scripts/trim-openapi.mjs", op)
		}
		sch = set.basicError
	case !ok && status >= 400:
		// GitHub answers every error with its error body, also for
		// statuses an operation's description omits (a refused JWT's 401,
		// 5xx, rate limits).
		sch = set.basicError
	case !ok:
		return fmt.Sprintf("%s answered %d, a status its description does not list", op, status)
	}
	if sch == nil {
		if len(bytes.TrimSpace(body)) > 0 {
			return fmt.Sprintf("%s answered %d with a body; the description gives none", op, status)
		}
		return ""
	}
	if mt, _, _ := mime.ParseMediaType(header.Get("Content-Type")); mt != "application/json" {
		return fmt.Sprintf("%s answered %d with Content-Type %q, not application/json", op, status, header.Get("Content-Type"))
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Sprintf("%s answered %d with invalid JSON: %v", op, status, err)
	}
	if err := sch.Validate(v); err != nil {
		return fmt.Sprintf("%s answered %d against its schema: %v", op, status, err)
	}
	return ""
}
