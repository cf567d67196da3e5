package signer

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"
)

type awsOptions struct {
	load   []func(*config.LoadOptions) error
	client []func(*kms.Options)
}

// WithAWSConfig adds options to the AWS SDK's config.LoadDefaultConfig
// (tests pass static credentials and an HTTP client).
func WithAWSConfig(opts ...func(*config.LoadOptions) error) Option {
	return func(o *options) { o.aws.load = append(o.aws.load, opts...) }
}

// WithAWSClientOptions adds options to the KMS client (tests pass an HTTP
// client that counts requests).
func WithAWSClientOptions(opts ...func(*kms.Options)) Option {
	return func(o *options) { o.aws.client = append(o.aws.client, opts...) }
}

// awsKey is a key in AWS KMS.
type awsKey struct {
	client *kms.Client
	keyID  string
	region string
}

// openAWS opens awskms://KEY, KEY being a key ID, an alias (alias/NAME) or
// a key or alias ARN. sigstore's form with an empty endpoint,
// awskms:///KEY, is accepted too. The region is the ARN's, else the SDK's
// usual settings (AWS_REGION, AWS_DEFAULT_REGION, the profile); the
// endpoint is AWS_ENDPOINT_URL_KMS or AWS_ENDPOINT_URL when set, as the
// SDK documents for every service. Credentials come from the SDK's default
// chain.
func openAWS(ctx context.Context, rest string, o *options) (backend, crypto.PublicKey, error) {
	const form = "write awskms://KEY-ID, awskms://alias/NAME or awskms://arn:aws:kms:REGION:ACCOUNT:key/KEY-ID"
	keyID, ok := strings.CutPrefix(rest, "//")
	keyID = strings.TrimPrefix(keyID, "/")
	if !ok || keyID == "" || strings.ContainsAny(keyID, "?#") {
		return nil, nil, &Error{Kind: Invalid, Hint: form}
	}
	region := ""
	if strings.HasPrefix(keyID, "arn:") {
		// arn:PARTITION:kms:REGION:ACCOUNT:key/ID or .../alias/NAME
		// https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#key-id
		parts := strings.SplitN(keyID, ":", 6)
		if len(parts) != 6 || parts[2] != "kms" || parts[3] == "" ||
			!(strings.HasPrefix(parts[5], "key/") || strings.HasPrefix(parts[5], "alias/")) {
			return nil, nil, &Error{Kind: Invalid, Hint: form}
		}
		region = parts[3]
	}
	if region == "" {
		region = firstSet(o.getenv, "AWS_REGION", "AWS_DEFAULT_REGION")
	}
	// Our retries (transient failures only, bounded by the timeout) replace
	// the SDK's, so that one attempt is one request.
	load := []func(*config.LoadOptions) error{config.WithRetryMaxAttempts(1)}
	if region != "" {
		load = append(load, config.WithRegion(region))
	}
	load = append(load, o.aws.load...)
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, nil, &Error{Kind: Invalid, Hint: "check the AWS configuration (AWS_PROFILE, ~/.aws/config)", Err: err}
	}
	if cfg.Region == "" {
		return nil, nil, &Error{Kind: Invalid, Hint: "no AWS region: name the key by its ARN, or set AWS_REGION (aws-actions/configure-aws-credentials sets it)"}
	}
	endpoint := firstSet(o.getenv, "AWS_ENDPOINT_URL_KMS", "AWS_ENDPOINT_URL")
	client := kms.NewFromConfig(cfg, append([]func(*kms.Options){func(ko *kms.Options) {
		if endpoint != "" {
			ko.BaseEndpoint = aws.String(endpoint)
		}
	}}, o.aws.client...)...)
	k := &awsKey{client: client, keyID: keyID, region: cfg.Region}
	cctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	out, err := client.GetPublicKey(cctx, &kms.GetPublicKeyInput{KeyId: aws.String(keyID)})
	if err != nil {
		return k, nil, err
	}
	if out.KeyUsage != types.KeyUsageTypeSignVerify {
		return nil, nil, &Error{Kind: WrongKey, Hint: "create the key with key usage SIGN_VERIFY and key spec RSA_2048", Err: fmt.Errorf("the key's usage is %s, not SIGN_VERIFY", out.KeyUsage)}
	}
	if !slices.Contains(out.SigningAlgorithms, types.SigningAlgorithmSpecRsassaPkcs1V15Sha256) {
		return nil, nil, &Error{Kind: WrongKey, Hint: "create the key with key spec RSA_2048 (or larger) and key usage SIGN_VERIFY", Err: fmt.Errorf("the key (%s) cannot sign with RSASSA_PKCS1_V1_5_SHA_256", out.KeySpec)}
	}
	pub, err := x509.ParsePKIXPublicKey(out.PublicKey)
	if err != nil {
		return nil, nil, &Error{Kind: Failed, Err: fmt.Errorf("parse the public key AWS KMS returned: %w", err)}
	}
	return k, pub, nil
}

// sign calls Sign with a precomputed digest.
// https://docs.aws.amazon.com/kms/latest/APIReference/API_Sign.html:
// "use DIGEST for the MessageType" when Message is already a hash.
func (k *awsKey) sign(ctx context.Context, digest []byte) ([]byte, error) {
	out, err := k.client.Sign(ctx, &kms.SignInput{
		KeyId:            aws.String(k.keyID),
		Message:          digest,
		MessageType:      types.MessageTypeDigest,
		SigningAlgorithm: types.SigningAlgorithmSpecRsassaPkcs1V15Sha256,
	})
	if err != nil {
		return nil, err
	}
	return out.Signature, nil
}

// awsRetryables are the SDK's own transient errors (throttling, 5xx,
// connection failures), which its retryer would retry. Made on first use.
var awsRetryables = sync.OnceValue(func() retry.IsErrorRetryables {
	return retry.IsErrorRetryables(append(slices.Clone(retry.DefaultRetryables),
		retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
			if retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) == aws.TrueTernary {
				return aws.TrueTernary
			}
			return aws.UnknownTernary
		})))
})

func (k *awsKey) classify(err error) (Kind, string, bool) {
	const perms = "the credentials need kms:Sign and kms:GetPublicKey on the key, and the key must be enabled"
	var (
		notFound *types.NotFoundException
		disabled *types.DisabledException
		state    *types.KMSInvalidStateException
		usage    *types.InvalidKeyUsageException
		internal *types.KMSInternalException
		depTime  *types.DependencyTimeoutException
		unavail  *types.KeyUnavailableException
		api      smithy.APIError
		op       *net.OpError
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return Unreachable, "AWS KMS did not answer in time; check the network and AWS_ENDPOINT_URL_KMS", true
	case errors.As(err, &notFound):
		return NotFound, fmt.Sprintf("check the key ID, alias or ARN and the region (%s)", k.region), false
	case errors.As(err, &disabled), errors.As(err, &state):
		return Refused, "enable the key (it is disabled or pending deletion or import)", false
	case errors.As(err, &usage):
		return WrongKey, "the key must have key usage SIGN_VERIFY and key spec RSA_2048", false
	case errors.As(err, &internal), errors.As(err, &depTime), errors.As(err, &unavail):
		return Unreachable, "AWS KMS failed; retry later", true
	case errors.As(err, &api) && (api.ErrorCode() == "AccessDeniedException" || strings.HasPrefix(api.ErrorCode(), "UnrecognizedClient") || api.ErrorCode() == "ExpiredTokenException" || api.ErrorCode() == "InvalidSignatureException"):
		return Refused, perms, false
	case strings.Contains(err.Error(), "failed to retrieve credentials") || strings.Contains(err.Error(), "get credentials"):
		return Refused, "no AWS credentials were found: use aws-actions/configure-aws-credentials, AWS_PROFILE or the instance's role", false
	case awsRetryables().IsErrorRetryable(err) == aws.TrueTernary:
		if errors.As(err, &op) {
			return Unreachable, "check the network, the region and AWS_ENDPOINT_URL_KMS", true
		}
		return Unreachable, "AWS KMS failed; retry later", true
	case errors.As(err, &op):
		return Unreachable, "check the network, the region and AWS_ENDPOINT_URL_KMS", false
	default:
		return Failed, perms, false
	}
}

func (k *awsKey) close() error { return nil }

// firstSet returns the first of the variables that is set.
func firstSet(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(getenv(n)); v != "" {
			return v
		}
	}
	return ""
}
