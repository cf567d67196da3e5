package signer

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// pkcs11URI is a parsed RFC 7512 PKCS #11 URI: its path and query
// attributes, percent-decoded.
type pkcs11URI struct {
	path  map[string]string
	query map[string]string
}

// RFC 7512 section 2.3 lists the standard attributes; vendor-specific ones
// start with "x-". We refuse any other name rather than ignore it: a
// misspelt attribute would otherwise select a key it was meant to exclude.
var (
	pkcs11PathAttrs = []string{
		"id", "library-description", "library-manufacturer", "library-version",
		"manufacturer", "model", "object", "serial", "slot-description",
		"slot-id", "slot-manufacturer", "token", "type",
	}
	pkcs11QueryAttrs = []string{"module-name", "module-path", "pin-source", "pin-value"}
	// pkcs11AttrName is compiled on first use, not at every start.
	pkcs11AttrName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z][a-z0-9-]*$`) })
)

// Characters an attribute value may hold without percent-encoding (RFC 7512
// section 2.3: pk11-pchar and pk11-qchar): the unreserved ones, the
// reserved ones the grammar lets through, "&" in the path, "/?|" in the
// query. Anything else must be percent-encoded.
const (
	pkcs11Unreserved = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~"
	pkcs11ResAvail   = ":[]@!$'()*+,="
	pkcs11PathChars  = pkcs11Unreserved + pkcs11ResAvail + "&"
	pkcs11QueryChars = pkcs11Unreserved + pkcs11ResAvail + "/?|"
)

// parsePKCS11URI parses what follows "pkcs11:". Its errors name the
// attribute at fault but never repeat a value, which could be a PIN.
func parsePKCS11URI(rest string) (*pkcs11URI, error) {
	// The query starts at the first "?" (section 2.3: "?" is not
	// allowed unencoded in the path).
	pathPart, queryPart, hasQuery := strings.Cut(rest, "?")
	u := &pkcs11URI{path: map[string]string{}, query: map[string]string{}}
	if err := parsePKCS11Attrs(pathPart, ";", pkcs11PathChars, pkcs11PathAttrs, "path", u.path); err != nil {
		return nil, err
	}
	if hasQuery {
		if err := parsePKCS11Attrs(queryPart, "&", pkcs11QueryChars, pkcs11QueryAttrs, "query", u.query); err != nil {
			return nil, err
		}
	}
	return u, nil
}

func parsePKCS11Attrs(s, sep, allowed string, known []string, where string, into map[string]string) error {
	if s == "" {
		return nil
	}
	for _, attr := range strings.Split(s, sep) {
		name, raw, ok := strings.Cut(attr, "=")
		switch {
		case !ok && attr == "":
			return fmt.Errorf("an empty attribute in the %s (two %q in a row?)", where, sep)
		case !ok:
			return fmt.Errorf("a %s attribute without \"=\"", where)
		case !pkcs11AttrName().MatchString(name):
			return fmt.Errorf("an attribute name that is not lowercase letters, digits and \"-\" in the %s", where)
		case !slices.Contains(known, name) && !strings.HasPrefix(name, "x-"):
			if slices.Contains(pkcs11PathAttrs, name) || slices.Contains(pkcs11QueryAttrs, name) {
				return fmt.Errorf("attribute %q belongs in the %s", name, other(where))
			}
			return fmt.Errorf("unknown attribute %q (RFC 7512 knows %s)", name, strings.Join(append(slices.Clone(pkcs11PathAttrs), pkcs11QueryAttrs...), ", "))
		}
		if _, dup := into[name]; dup {
			return fmt.Errorf("attribute %q appears twice", name)
		}
		for i := 0; i < len(raw); i++ {
			if raw[i] != '%' && !strings.ContainsRune(allowed, rune(raw[i])) {
				return fmt.Errorf("the value of %q holds a character that must be percent-encoded", name)
			}
		}
		v, err := url.PathUnescape(raw)
		if err != nil {
			return fmt.Errorf("the value of %q has a bad percent-encoding (write %%XX with two hex digits)", name)
		}
		into[name] = v
	}
	return nil
}

func other(where string) string {
	if where == "path" {
		return "query (after \"?\", separated by \"&\")"
	}
	return "path (before \"?\", separated by \";\")"
}

// String formats u canonically: attributes sorted, values percent-encoded
// where RFC 7512 requires it, pin-value as given (callers show Redact's).
func (u *pkcs11URI) String() string {
	var b strings.Builder
	b.WriteString("pkcs11:")
	for i, k := range slices.Sorted(maps.Keys(u.path)) {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(k + "=" + pkcs11Escape(u.path[k], pkcs11PathChars))
	}
	if len(u.query) > 0 {
		b.WriteByte('?')
		for i, k := range slices.Sorted(maps.Keys(u.query)) {
			if i > 0 {
				b.WriteByte('&')
			}
			b.WriteString(k + "=" + pkcs11Escape(u.query[k], pkcs11QueryChars))
		}
	}
	return b.String()
}

func pkcs11Escape(v, allowed string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if c := v[i]; strings.IndexByte(allowed, c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// redacted is what Redact puts in place of a PIN.
const redacted = "REDACTED"

// Redact returns uri fit for an error or a log: the value of any attribute
// whose name mentions a PIN (pin-value, in whatever case or encoding, but
// not pin-source, which is only a path) is replaced by REDACTED. It works on
// malformed URIs too: the path's attributes end at ";", the query's (after
// the first "?") at "&".
func Redact(uri string) string {
	out, _ := redact(uri)
	return out
}

// PINs returns the PINs uri holds, the values Redact replaces, each as
// written and, when different, percent-decoded: what a log must mask.
func PINs(uri string) []string {
	_, pins := redact(uri)
	return pins
}

func redact(uri string) (string, []string) {
	scheme, rest, ok := strings.Cut(uri, ":")
	if !ok || !strings.EqualFold(strings.TrimSpace(scheme), "pkcs11") {
		return uri, nil
	}
	var pins []string
	path, query, hasQuery := strings.Cut(rest, "?")
	out := scheme + ":" + redactAttrs(path, ";", &pins)
	if hasQuery {
		out += "?" + redactAttrs(query, "&", &pins)
	}
	return out, pins
}

func redactAttrs(s, sep string, pins *[]string) string {
	attrs := strings.Split(s, sep)
	for i, a := range attrs {
		name, value, hasValue := strings.Cut(a, "=")
		if n, err := url.PathUnescape(name); err == nil {
			name = n
		}
		name = strings.ToLower(strings.TrimSpace(name))
		if hasValue && strings.Contains(name, "pin") && !strings.Contains(name, "source") {
			attrs[i] = a[:strings.IndexByte(a, '=')+1] + redacted
			if value != "" {
				*pins = append(*pins, value)
			}
			if v, err := url.PathUnescape(value); err == nil && v != value && v != "" {
				*pins = append(*pins, v)
			}
		}
	}
	return strings.Join(attrs, sep)
}

const pkcs11Form = "write pkcs11:token=LABEL;object=KEY-LABEL?module-path=/path/to/module.so&pin-source=file:/path/to/pin"

// pkcs11Target is what a pkcs11: URI asks crypto11 for.
type pkcs11Target struct {
	module      string
	tokenLabel  string
	tokenSerial string
	slot        *int
	label, id   []byte
	pin         string
}

// resolvePKCS11 turns a parsed URI into a target, reading pin-source. Its
// errors are *Error with Kind Invalid (or Unreachable for an unreadable
// pin-source) and never hold the PIN.
func resolvePKCS11(u *pkcs11URI, readFile func(string) ([]byte, error)) (*pkcs11Target, error) {
	invalid := func(format string, args ...any) error {
		return &Error{Kind: Invalid, Hint: pkcs11Form, Err: fmt.Errorf(format, args...)}
	}
	for _, a := range []string{"manufacturer", "model", "library-manufacturer", "library-description", "library-version", "slot-manufacturer", "slot-description"} {
		if _, ok := u.path[a]; ok {
			return nil, invalid("attribute %q is not supported: select the token with token=, serial= or slot-id=", a)
		}
	}
	for a := range u.path {
		if strings.HasPrefix(a, "x-") {
			return nil, invalid("vendor attribute %q is not supported", a)
		}
	}
	t := &pkcs11Target{tokenLabel: u.path["token"], tokenSerial: u.path["serial"]}
	n := 0
	for _, a := range []string{"token", "serial", "slot-id"} {
		if _, ok := u.path[a]; ok {
			n++
		}
	}
	if n != 1 {
		return nil, invalid("name the token with exactly one of token=, serial= and slot-id= (%d given)", n)
	}
	if s, ok := u.path["slot-id"]; ok {
		var id int
		if _, err := fmt.Sscanf(s, "%d", &id); err != nil || fmt.Sprint(id) != s || id < 0 {
			return nil, invalid("slot-id must be a decimal number")
		}
		t.slot = &id
	}
	if ty, ok := u.path["type"]; ok && ty != "private" {
		return nil, invalid("type must be private (the App's private key signs)")
	}
	obj, hasObj := u.path["object"]
	id, hasID := u.path["id"]
	if !hasObj && !hasID {
		return nil, invalid("name the key with object= (its label) or id=")
	}
	if hasObj {
		t.label = []byte(obj)
	}
	if hasID {
		t.id = []byte(id)
	}
	t.module = u.query["module-path"]
	if t.module == "" {
		if _, ok := u.query["module-name"]; ok {
			return nil, invalid("give module-path= (the absolute path of the module) instead of module-name=")
		}
		return nil, invalid("module-path= is missing (e.g. /usr/lib/softhsm/libsofthsm2.so)")
	}
	if !strings.HasPrefix(t.module, "/") && !(len(t.module) > 2 && t.module[1] == ':') {
		return nil, invalid("module-path must be an absolute path")
	}
	for a := range u.query {
		if strings.HasPrefix(a, "x-") {
			return nil, invalid("vendor attribute %q is not supported", a)
		}
	}
	pinValue, hasValue := u.query["pin-value"]
	source, hasSource := u.query["pin-source"]
	switch {
	case hasValue && hasSource:
		return nil, invalid("give pin-value or pin-source, not both")
	case hasValue:
		t.pin = pinValue
	case hasSource:
		// RFC 7512 section 2.3: pin-source names where the PIN is; we
		// take a file, as a path or a file: URI.
		path := source
		if p, ok := strings.CutPrefix(source, "file:"); ok {
			path = strings.TrimPrefix(p, "//")
		}
		if !strings.HasPrefix(path, "/") {
			return nil, invalid("pin-source must be an absolute path or a file: URI")
		}
		b, err := readFile(path)
		if err != nil {
			return nil, &Error{Kind: Unreachable, Hint: "check pin-source: the file must exist and be readable", Err: errors.Unwrap(err)}
		}
		t.pin = strings.TrimRight(string(b), "\r\n")
	default:
		return nil, invalid("no PIN: add pin-source=file:/path/to/pin (or pin-value=)")
	}
	return t, nil
}
