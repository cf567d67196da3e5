package signer

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"net"
	"strings"
	"sync"
	"testing"

	kmspb "cloud.google.com/go/kms/apiv1/kmspb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Google publishes no Cloud KMS emulator, so the GCP tests run the real
// generated client (cloud.google.com/go/kms/apiv1) against an in-process
// gRPC server that implements the generated KeyManagementServiceServer's
// GetPublicKey and AsymmetricSign as Cloud KMS documents them, CRC32C
// checks included. It is a stand-in for Cloud KMS, not Cloud KMS.

const gcpPrefix = "projects/p/locations/global/keyRings/r/cryptoKeys/"

type gcpVersion struct {
	key       crypto.Signer
	algorithm kmspb.CryptoKeyVersion_CryptoKeyVersionAlgorithm
	deny      bool // PermissionDenied on AsymmetricSign
}

type fakeKMS struct {
	kmspb.UnimplementedKeyManagementServiceServer
	versions map[string]gcpVersion

	mu    sync.Mutex
	signs int
	// corrupt flips a bit of the next n signatures after their checksum
	// is computed, as a damaged answer would arrive.
	corrupt int
}

func (f *fakeKMS) GetPublicKey(_ context.Context, req *kmspb.GetPublicKeyRequest) (*kmspb.PublicKey, error) {
	v, ok := f.versions[req.GetName()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "CryptoKeyVersion %s not found.", req.GetName())
	}
	der, err := x509.MarshalPKIXPublicKey(v.key.Public())
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	p := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	return &kmspb.PublicKey{Pem: p, Algorithm: v.algorithm, PemCrc32C: wrapperspb.Int64(checksum([]byte(p))), Name: req.GetName()}, nil
}

func (f *fakeKMS) AsymmetricSign(_ context.Context, req *kmspb.AsymmetricSignRequest) (*kmspb.AsymmetricSignResponse, error) {
	f.mu.Lock()
	f.signs++
	corrupt := f.corrupt > 0
	if corrupt {
		f.corrupt--
	}
	f.mu.Unlock()
	v, ok := f.versions[req.GetName()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "CryptoKeyVersion %s not found.", req.GetName())
	}
	if v.deny {
		return nil, status.Errorf(codes.PermissionDenied, "Permission 'cloudkms.cryptoKeyVersions.useToSign' denied on resource '%s' (or it may not exist).", req.GetName())
	}
	digest := req.GetDigest().GetSha256()
	// Cloud KMS checks digest_crc32c when it is given and says so in
	// verified_digest_crc32c.
	if c := req.GetDigestCrc32C(); c != nil && c.GetValue() != checksum(digest) {
		return nil, status.Error(codes.InvalidArgument, "The checksum in field digest_crc32c did not match the data in field digest.")
	}
	sig, err := v.key.Sign(nil, digest, crypto.SHA256)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	resp := &kmspb.AsymmetricSignResponse{Signature: sig, SignatureCrc32C: wrapperspb.Int64(checksum(sig)),
		VerifiedDigestCrc32C: req.GetDigestCrc32C() != nil, Name: req.GetName()}
	if corrupt {
		resp.Signature = append([]byte(nil), sig...)
		resp.Signature[0] ^= 1
	}
	return resp, nil
}

func (f *fakeKMS) signCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.signs
}

// serveFakeKMS serves f on a loopback port and returns the options that
// point the real client at it.
func serveFakeKMS(t testing.TB, f *fakeKMS) (addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	kmspb.RegisterKeyManagementServiceServer(srv, f)
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	return ln.Addr().String()
}

func gcpOpts(addr string) []Option {
	return []Option{
		WithGCPClientOptions(option.WithEndpoint(addr), option.WithoutAuthentication(),
			option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials()))),
		WithWait(noWait),
	}
}

func TestGCPKMS(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	f := &fakeKMS{versions: map[string]gcpVersion{
		gcpPrefix + "app/cryptoKeyVersions/1":    {key: appKey(), algorithm: kmspb.CryptoKeyVersion_RSA_SIGN_PKCS1_2048_SHA256},
		gcpPrefix + "pss/cryptoKeyVersions/1":    {key: appKey(), algorithm: kmspb.CryptoKeyVersion_RSA_SIGN_PSS_2048_SHA256},
		gcpPrefix + "ec/cryptoKeyVersions/1":     {key: ecKey(), algorithm: kmspb.CryptoKeyVersion_EC_SIGN_P256_SHA256},
		gcpPrefix + "small/cryptoKeyVersions/1":  {key: smallKey(), algorithm: kmspb.CryptoKeyVersion_RSA_SIGN_PKCS1_2048_SHA256},
		gcpPrefix + "denied/cryptoKeyVersions/1": {key: appKey(), algorithm: kmspb.CryptoKeyVersion_RSA_SIGN_PKCS1_2048_SHA256, deny: true},
	}}
	addr := serveFakeKMS(t, f)
	secrets := keyLines(pkcs8PEM(t, appKey()))
	app := "gcpkms://" + gcpPrefix + "app/cryptoKeyVersions/1"

	t.Run("sign and mint", func(t *testing.T) {
		s, err := Open(ctx, app, gcpOpts(addr)...)
		if err != nil {
			t.Fatal(err)
		}
		defer s.(*Signer).Close()
		verifies(t, s, &appKey().PublicKey)
		before := f.signCount()
		mint(t, s, appKey())
		if n := f.signCount() - before; n != 2 {
			t.Errorf("%d AsymmetricSign calls, want 2 (the minting JWT and the one checked)", n)
		}
	})

	t.Run("a corrupted signature is retried", func(t *testing.T) {
		s, err := Open(ctx, app, gcpOpts(addr)...)
		if err != nil {
			t.Fatal(err)
		}
		defer s.(*Signer).Close()
		f.mu.Lock()
		f.corrupt = 1
		f.mu.Unlock()
		before := f.signCount()
		verifies(t, s, &appKey().PublicKey)
		if n := f.signCount() - before; n != 2 {
			t.Errorf("%d AsymmetricSign calls, want 2 (one corrupted, one retried)", n)
		}
	})

	for _, tc := range []struct {
		name, uri string
		kind      Kind
	}{
		{"a PSS key", "gcpkms://" + gcpPrefix + "pss/cryptoKeyVersions/1", WrongKey},
		{"an EC key", "gcpkms://" + gcpPrefix + "ec/cryptoKeyVersions/1", WrongKey},
		{"a small key", "gcpkms://" + gcpPrefix + "small/cryptoKeyVersions/1", WrongKey},
		{"a missing key", "gcpkms://" + gcpPrefix + "nope/cryptoKeyVersions/1", NotFound},
		{"no version", "gcpkms://" + gcpPrefix + "app", Invalid},
		{"a malformed name", "gcpkms://projects/p/keyRings/r", Invalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(ctx, tc.uri, gcpOpts(addr)...)
			checkErr(t, err, tc.kind, tc.uri, secrets...)
		})
	}

	t.Run("refused signature", func(t *testing.T) {
		uri := "gcpkms://" + gcpPrefix + "denied/cryptoKeyVersions/1"
		s, err := Open(ctx, uri, gcpOpts(addr)...)
		if err != nil {
			t.Fatal(err)
		}
		defer s.(*Signer).Close()
		before := f.signCount()
		_, err = s.Sign(nil, make([]byte, 32), crypto.SHA256)
		e := checkErr(t, err, Refused, uri, secrets...)
		if !strings.Contains(e.Hint, "roles/cloudkms.signerVerifier") {
			t.Errorf("hint %q does not name the role", e.Hint)
		}
		if n := f.signCount() - before; n != 1 {
			t.Errorf("a refused signature was asked %d times, want once", n)
		}
	})

	t.Run("unreachable", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := ln.Addr().String()
		ln.Close()
		_, err = Open(ctx, app, gcpOpts(closed)...)
		checkErr(t, err, Unreachable, app, secrets...)
	})
}
