package store

import (
	"reflect"
	"testing"

	"golang.org/x/crypto/scrypt"
)

func fuzzDerive(salt []byte, logN int) ([]byte, error) {
	return scrypt.Key([]byte("fuzz"), salt, 1<<logN, scryptR, scryptP, keySize)
}

// FuzzDecodeFile feeds arbitrary bytes to the token file decoder: it must
// never panic, and whatever it accepts must survive encoding and decoding
// again unchanged.
func FuzzDecodeFile(f *testing.F) {
	rec := &record{Entries: map[string]Entry{"c1": entry("github.com", "c1")}}
	for _, pass := range []string{"", "fuzz"} {
		data, err := encodeFile(rec, "github.com", pass, minLogN, nil, fuzzDerive)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"format":"app-token user tokens","version":1,"host":"github.com","encryption":"none","entries":{}}`))
	f.Add([]byte(`{"format":"app-token user tokens","version":1,"host":"github.com","encryption":"none","entries":null}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, encrypted, err := decodeFile(data, "github.com", "fuzz", fuzzDerive)
		if err != nil {
			if got != nil {
				t.Fatal("record returned with an error")
			}
			return
		}
		pass := ""
		if encrypted {
			pass = "fuzz"
		}
		again, err := encodeFile(got, "github.com", pass, minLogN, nil, fuzzDerive)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		back, _, err := decodeFile(again, "github.com", "fuzz", fuzzDerive)
		if err != nil {
			t.Fatalf("decode of re-encoded record: %v", err)
		}
		if !reflect.DeepEqual(normalise(got), normalise(back)) {
			t.Fatalf("round trip changed the record:\n%v\n%v", got.Entries, back.Entries)
		}
	})
}

// normalise drops what JSON cannot round-trip exactly (monotonic clock
// readings, time zones of equal instants).
func normalise(r *record) map[string]Entry {
	out := map[string]Entry{}
	for k, e := range r.Entries {
		e.ExpiresAt = e.ExpiresAt.UTC()
		e.RefreshExpiresAt = e.RefreshExpiresAt.UTC()
		e.SignedInAt = e.SignedInAt.UTC()
		e.RefreshedAt = e.RefreshedAt.UTC()
		out[k] = e
	}
	return out
}
