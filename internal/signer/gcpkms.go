package signer

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"hash/crc32"
	"regexp"
	"strings"
	"sync"

	kms "cloud.google.com/go/kms/apiv1"
	"cloud.google.com/go/kms/apiv1/kmspb"
	"google.golang.org/api/option"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

type gcpOptions struct {
	client []option.ClientOption
}

// WithGCPClientOptions adds options to the Cloud KMS client (tests pass an
// endpoint and option.WithoutAuthentication, or a gRPC connection).
func WithGCPClientOptions(opts ...option.ClientOption) Option {
	return func(o *options) { o.gcp.client = append(o.gcp.client, opts...) }
}

// gcpVersionName is a CryptoKeyVersion's resource name.
// https://cloud.google.com/kms/docs/resource-hierarchy#retrieve_resource_id
// It and crc32c are made on first use: every start of app-token (the
// action's too) would otherwise pay for them, used or not.
var gcpVersionName = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+/cryptoKeyVersions/[^/]+$`)
})

// gcpRSASHA256 are the CryptoKeyVersion algorithms that sign RSASSA-PKCS1-v1_5
// over a SHA-256 digest. https://cloud.google.com/kms/docs/algorithms
var gcpRSASHA256 = map[kmspb.CryptoKeyVersion_CryptoKeyVersionAlgorithm]bool{
	kmspb.CryptoKeyVersion_RSA_SIGN_PKCS1_2048_SHA256: true,
	kmspb.CryptoKeyVersion_RSA_SIGN_PKCS1_3072_SHA256: true,
	kmspb.CryptoKeyVersion_RSA_SIGN_PKCS1_4096_SHA256: true,
}

// crc32c is the checksum Cloud KMS uses to protect requests and responses.
var crc32c = sync.OnceValue(func() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) })

func checksum(b []byte) int64 { return int64(crc32.Checksum(b, crc32c())) }

// gcpKey is a CryptoKeyVersion in Cloud KMS.
type gcpKey struct {
	client *kms.KeyManagementClient
	name   string
}

// openGCP opens gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/V
// with Application Default Credentials (google-github-actions/auth sets
// them up in a workflow).
func openGCP(ctx context.Context, rest string, o *options) (backend, crypto.PublicKey, error) {
	name, ok := strings.CutPrefix(rest, "//")
	if !ok || !gcpVersionName().MatchString(name) {
		hint := "write gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/V"
		if ok && gcpVersionName().MatchString(name+"/cryptoKeyVersions/1") {
			hint = "name the key version: append /cryptoKeyVersions/N (asymmetric keys have no primary version)"
		}
		return nil, nil, &Error{Kind: Invalid, Hint: hint}
	}
	client, err := kms.NewKeyManagementClient(ctx, o.gcp.client...)
	if err != nil {
		return nil, nil, &Error{Kind: Refused, Hint: "no Google credentials: use google-github-actions/auth, or gcloud auth application-default login", Err: err}
	}
	// Our retries (transient failures only, bounded by the timeout) replace
	// the client's, so that one attempt is one request.
	client.CallOptions.AsymmetricSign = nil
	client.CallOptions.GetPublicKey = nil
	k := &gcpKey{client: client, name: name}
	cctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	resp, err := client.GetPublicKey(cctx, &kmspb.GetPublicKeyRequest{Name: name})
	if err != nil {
		return k, nil, err
	}
	// https://cloud.google.com/kms/docs/data-integrity-guidelines: check
	// that the response is for the key asked about and arrived intact.
	if resp.GetName() != name {
		return k, nil, &Error{Kind: Failed, Err: errors.New("Cloud KMS answered for another key version")}
	}
	if resp.GetPemCrc32C() == nil || checksum([]byte(resp.GetPem())) != resp.GetPemCrc32C().GetValue() {
		return k, nil, &Error{Kind: Unreachable, Hint: "the public key was corrupted in transit; retry", Err: errors.New("the public key's CRC32C does not match")}
	}
	if !gcpRSASHA256[resp.GetAlgorithm()] {
		return k, nil, &Error{Kind: WrongKey, Hint: "import the App's key as a key version with algorithm rsa-sign-pkcs1-2048-sha256 (purpose asymmetric-signing)", Err: fmt.Errorf("the key version's algorithm is %s", resp.GetAlgorithm())}
	}
	block, _ := pem.Decode([]byte(resp.GetPem()))
	if block == nil {
		return k, nil, &Error{Kind: Failed, Err: errors.New("Cloud KMS returned a public key that is not PEM")}
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return k, nil, &Error{Kind: Failed, Err: fmt.Errorf("parse the public key Cloud KMS returned: %w", err)}
	}
	return k, pub, nil
}

// errCorrupted is a response whose checksums say it was damaged in transit;
// the data-integrity guidelines say to retry.
var errCorrupted = errors.New("the request or its answer was corrupted in transit (CRC32C mismatch)")

// sign calls AsymmetricSign with the digest and its CRC32C, and checks the
// answer's: that Cloud KMS verified the digest's checksum, that the
// signature's matches, and that the answer names the key version asked for.
// https://cloud.google.com/kms/docs/data-integrity-guidelines
func (k *gcpKey) sign(ctx context.Context, digest []byte) ([]byte, error) {
	resp, err := k.client.AsymmetricSign(ctx, &kmspb.AsymmetricSignRequest{
		Name:         k.name,
		Digest:       &kmspb.Digest{Digest: &kmspb.Digest_Sha256{Sha256: digest}},
		DigestCrc32C: wrapperspb.Int64(checksum(digest)),
	})
	if err != nil {
		return nil, err
	}
	if !resp.GetVerifiedDigestCrc32C() {
		return nil, errCorrupted
	}
	if resp.GetName() != k.name {
		return nil, fmt.Errorf("Cloud KMS answered for another key version")
	}
	if resp.GetSignatureCrc32C() == nil || checksum(resp.GetSignature()) != resp.GetSignatureCrc32C().GetValue() {
		return nil, errCorrupted
	}
	return resp.GetSignature(), nil
}

func (k *gcpKey) classify(err error) (Kind, string, bool) {
	const perms = "the credentials need roles/cloudkms.signerVerifier on the key"
	if errors.Is(err, errCorrupted) {
		return Unreachable, "retry; if it persists, check the network path to Cloud KMS", true
	}
	st, ok := status.FromError(err)
	if !ok {
		return Failed, "", false
	}
	switch st.Code() {
	case codes.NotFound:
		return NotFound, "check the project, location, key ring, key and version", false
	case codes.PermissionDenied, codes.Unauthenticated:
		return Refused, perms, false
	case codes.FailedPrecondition:
		return Refused, "the key version must be enabled (not disabled, destroyed or pending import)", false
	case codes.InvalidArgument:
		return WrongKey, "the key version must be rsa-sign-pkcs1-2048-sha256 (or 3072/4096)", false
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Aborted, codes.Internal:
		return Unreachable, "check the network and the Cloud KMS endpoint", true
	default:
		return Failed, perms, false
	}
}

func (k *gcpKey) close() error { return k.client.Close() }
