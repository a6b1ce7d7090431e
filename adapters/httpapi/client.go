package httpapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/knitter-cni/knitter/core/model"
)

// ClientConfig says how to reach a manager.
type ClientConfig struct {
	// URL is the manager's base URL, "https://10.0.0.2:9527".
	URL string
	// Token is the bearer token; empty sends none (only /healthz and /readyz answer then).
	Token string
	// CAFile is a PEM file of the CA that signed the manager's certificate; TLSConfig, if set, is
	// used instead. With neither, the system roots are trusted.
	CAFile    string
	TLSConfig *tls.Config
	// Timeout bounds each request; 0 means 30 seconds.
	Timeout time.Duration
	// PageSize is the limit each request of a List method asks for (it reads every page); 0 means
	// MaxPageSize.
	PageSize int
	// Transport, when set, carries the requests instead of connections to URL's host (TLSConfig
	// and CAFile are then not used): the simulator serves the API in-process with it.
	Transport http.RoundTripper
}

// Client calls the manager's /api/v1 routes. It is safe for concurrent use.
//
// Errors are *model.Error values with the code, field and message the manager sent. Errors that mean
// "retry later" — a 503 (not the leader, store down), a timeout, a connection that failed — also
// match ErrUnavailable with errors.Is.
type Client struct {
	base     *url.URL
	token    string
	pageSize int
	http     *http.Client
}

// NewClient returns a client for cfg.
func NewClient(cfg ClientConfig) (*Client, error) {
	base, err := url.Parse(strings.TrimRight(cfg.URL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, model.Invalid("url", "%q is not a manager URL; give one such as \"https://10.0.0.2:9527\"", cfg.URL)
	}
	tlsConf := cfg.TLSConfig
	if tlsConf == nil && cfg.CAFile != "" {
		if tlsConf, err = caConfig(cfg.CAFile); err != nil {
			return nil, err
		}
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	// Agents and benchmarks call concurrently; the default of 2 idle connections per host would make
	// every further request pay a new TLS handshake.
	transport.MaxIdleConnsPerHost = 256
	if tlsConf != nil {
		transport.TLSClientConfig = tlsConf.Clone()
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	if cfg.PageSize < 0 || cfg.PageSize > MaxPageSize {
		return nil, model.Invalid("page_size", "%d is not a page size; give 1 to %d, or 0 for %d", cfg.PageSize, MaxPageSize, MaxPageSize)
	}
	pageSize := cfg.PageSize
	if pageSize == 0 {
		pageSize = MaxPageSize
	}
	var rt http.RoundTripper = transport
	if cfg.Transport != nil {
		rt = cfg.Transport
	}
	return &Client{base: base, token: cfg.Token, pageSize: pageSize, http: &http.Client{
		Transport: rt,
		Timeout:   timeout,
		// The API never redirects; following one could send the token elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, nil
}

// caConfig trusts the CA in a PEM file (TLS 1.2 or newer).
func caConfig(file string) (*tls.Config, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, model.Invalid("ca_file", "cannot read the CA file: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, model.Invalid("ca_file", "%s holds no PEM certificate", file)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 64 << 10

// do sends one request: in (if not nil) as the JSON body, the answer decoded into out (if not nil).
// It returns the status of a successful answer.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) (int, error) {
	// path is in escaped form (seg escapes each segment): it becomes RawPath as it is, so that an
	// escaped '/' or '%' in a segment is sent once-escaped, not escaped again.
	u := *c.base
	raw := u.EscapedPath() + path
	unescaped, err := url.PathUnescape(raw)
	if err != nil {
		return 0, fmt.Errorf("request path %q: %w", raw, err)
	}
	u.Path, u.RawPath = unescaped, raw
	u.RawQuery = query.Encode()
	var body io.Reader
	if in != nil {
		b, err := appendJSON(nil, in)
		if err != nil {
			return 0, fmt.Errorf("encoding the %s %s body: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var untrusted *tls.CertificateVerificationError
		switch {
		case ctx.Err() != nil:
			// The caller gave up; that is not the manager's unavailability.
			return 0, fmt.Errorf("%s %s: %w", method, path, err)
		case errors.As(err, &untrusted):
			// Retrying cannot help: the client's configuration must change.
			return 0, fmt.Errorf("%w: %w", model.Invalid("ca_file", "the manager's certificate is not trusted; give the CA that signed it (knitter-manager writes ca.crt into its data directory)"), err)
		}
		return 0, fmt.Errorf("%w: %s %s: %w", ErrUnavailable, method, u.Redacted(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return 0, answerError(resp)
	}
	if out != nil && resp.StatusCode != http.StatusNoContent {
		if err := decodeAnswer(resp.Body, out); err != nil {
			if ctx.Err() == nil && !errors.Is(err, io.ErrUnexpectedEOF) {
				return 0, fmt.Errorf("decoding the answer to %s %s: %w", method, path, err)
			}
			return 0, fmt.Errorf("%w: reading the answer to %s %s: %w", ErrUnavailable, method, path, err)
		}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody)) // lets the connection be reused
	return resp.StatusCode, nil
}

// decodeAnswer decodes the JSON value at the start of body into out, as a json.Decoder does. A
// pod (the allocation path's answer) is read whole and decoded by hand when it is in the plain form.
func decodeAnswer(body io.Reader, out any) error {
	p, ok := out.(*model.Pod)
	if !ok {
		return json.NewDecoder(body).Decode(out)
	}
	buf := answerBufs.Get().(*[]byte)
	defer func() {
		if cap(*buf) <= maxPooledAnswer {
			answerBufs.Put(buf)
		}
	}()
	b, err := readAll((*buf)[:0], body)
	*buf = b
	if err == nil {
		if pod, ok := decodePod(b); ok {
			*p = pod // out is a fresh value in every caller, so this is what decoding into it gives
			return nil
		}
	}
	// What was read, then the read's error if any: the decoder meets both where it would have.
	rest := io.Reader(bytes.NewReader(b))
	if err != nil {
		rest = io.MultiReader(rest, errReader{err})
	}
	return json.NewDecoder(rest).Decode(out)
}

// answerBufs holds the buffers decodeAnswer reads pods into; one that grew past maxPooledAnswer is
// dropped.
var answerBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

const maxPooledAnswer = 64 << 10

// readAll appends what r gives until EOF (nil) or another error.
func readAll(b []byte, r io.Reader) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// answerError turns an error answer into a *model.Error; 429 (too many requests in flight), 502,
// 503 and 504 (a manager or proxy that cannot serve now) also match ErrUnavailable.
func answerError(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var body ErrorBody
	e := &model.Error{}
	if json.Unmarshal(raw, &body) == nil && body.Code != "" {
		e.Code, e.Field, e.Message = body.Code, body.Field, body.Message
	} else {
		e.Code = codeOfStatus(resp.StatusCode)
		e.Message = fmt.Sprintf("HTTP %s: %s", resp.Status, strings.TrimSpace(string(raw)))
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		if after := resp.Header.Get("Retry-After"); after != "" {
			return fmt.Errorf("%w (retry after %ss): %w", ErrUnavailable, after, e)
		}
		return fmt.Errorf("%w: %w", ErrUnavailable, e)
	}
	return e
}

// codeOfStatus guesses the code of an answer that is not in the API's error shape (a proxy's).
func codeOfStatus(status int) model.Code {
	switch status {
	case http.StatusBadRequest:
		return model.CodeInvalid
	case http.StatusUnauthorized:
		return model.CodeUnauthenticated
	case http.StatusForbidden:
		return model.CodeForbidden
	case http.StatusNotFound:
		return model.CodeNotFound
	case http.StatusConflict:
		return model.CodeConflict
	case http.StatusTooManyRequests:
		return CodeTooManyRequests
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return model.CodeUnavailable
	}
	return CodeInternal
}
