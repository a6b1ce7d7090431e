package plugin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/knitter-cni/knitter/agent/wire"
)

// maxAnswer bounds the agent's answer: a result of 32 interfaces is a few KiB.
const maxAnswer = 1 << 20

// errUnreachable marks a call that never reached the agent.
var errUnreachable = errors.New("knitter-agent is not reachable")

// Exchange carries one call to the agent: it POSTs body to the route of verb (wire.Path + verb) and
// returns the agent's HTTP status and answer body. An error means the call got no answer; the
// runtime sees it as try-again-later (11).
type Exchange func(ctx context.Context, verb string, body []byte) (status int, answer []byte, err error)

// callVia encodes req, sends it through ex and decodes the answer into out. An answer of the
// agent's that is an error is returned as a *wire.Error.
func callVia(ctx context.Context, ex Exchange, verb string, req wire.Request, out *wire.Response) error {
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("encoding the request: %w", err)
	}
	// The agent refuses a larger request by closing the connection, which would read as a retry
	// (11); a call that can never fit is the configuration's fault (7), and says what is large.
	if len(body) > wire.MaxRequestBytes {
		return &wire.Error{Code: wire.CodeInvalidConfig, Msg: fmt.Sprintf(
			"the call to knitter-agent would be %d bytes, over the %d it takes; %s", len(body), wire.MaxRequestBytes, largestPart(req))}
	}
	status, answer, err := ex(ctx, verb, body)
	if err != nil {
		return err
	}
	if status/100 != 2 {
		we := &wire.Error{}
		if err := json.Unmarshal(answer, we); err != nil || we.Code == 0 {
			return &wire.Error{Code: wire.CodeInternal, Msg: fmt.Sprintf("knitter-agent answered HTTP %d: %s", status, strings.TrimSpace(string(answer)))}
		}
		return we
	}
	if err := json.Unmarshal(answer, out); err != nil {
		return fmt.Errorf("decoding knitter-agent's answer: %w", err)
	}
	return nil
}

// socketExchange speaks HTTP/1.0 by hand on one connection to the agent's unix socket: the agent
// answers and closes, and the plugin needs neither keep-alive nor chunked encoding, so net/http
// (and TLS with it) stays out of the binary.
func socketExchange(socket string) Exchange {
	return func(ctx context.Context, verb string, body []byte) (int, []byte, error) {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "unix", socket)
		if err != nil {
			return 0, nil, unreachable(socket, err)
		}
		defer conn.Close()
		if dl, ok := ctx.Deadline(); ok {
			_ = conn.SetDeadline(dl)
		}
		stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
		defer stop()
		var b bytes.Buffer
		fmt.Fprintf(&b, "POST %s%s HTTP/1.0\r\nHost: knitter-agent\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", wire.Path, verb, len(body))
		b.Write(body)
		if _, err := conn.Write(b.Bytes()); err != nil {
			return 0, nil, fmt.Errorf("sending the request to knitter-agent: %w", timeoutOr(ctx, err))
		}
		status, answer, err := readAnswer(bufio.NewReader(conn))
		if err != nil {
			return 0, nil, fmt.Errorf("reading knitter-agent's answer: %w", timeoutOr(ctx, err))
		}
		return status, answer, nil
	}
}

// timeoutOr returns ctx's error when ctx ended or its deadline cut the connection (the connection's
// deadline may fire a moment before the context's), else err.
func timeoutOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return context.DeadlineExceeded
	}
	return err
}

// readAnswer reads an HTTP/1.x response: the status, then the body up to Content-Length or the end
// of the connection.
func readAnswer(r *bufio.Reader) (int, []byte, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return 0, nil, err
	}
	parts := strings.SplitN(strings.TrimSpace(line), " ", 3)
	if len(parts) < 2 || !strings.HasPrefix(parts[0], "HTTP/") {
		return 0, nil, fmt.Errorf("not an HTTP answer: %q", line)
	}
	status, err := strconv.Atoi(parts[1])
	if err != nil {
		return 0, nil, fmt.Errorf("not an HTTP status: %q", line)
	}
	length := -1
	for {
		h, err := r.ReadString('\n')
		if err != nil {
			return 0, nil, err
		}
		h = strings.TrimSpace(h)
		if h == "" {
			break
		}
		k, v, _ := strings.Cut(h, ":")
		if strings.EqualFold(strings.TrimSpace(k), "Content-Length") {
			if length, err = strconv.Atoi(strings.TrimSpace(v)); err != nil || length < 0 || length > maxAnswer {
				return 0, nil, fmt.Errorf("bad Content-Length %q", v)
			}
		}
	}
	if length >= 0 {
		body := make([]byte, length)
		_, err := io.ReadFull(r, body)
		return status, body, err
	}
	body, err := io.ReadAll(io.LimitReader(r, maxAnswer))
	return status, body, err
}

// largestPart names the largest part of an oversized request, for its error.
func largestPart(req wire.Request) string {
	size := func(v any) int { b, _ := json.Marshal(v); return len(b) }
	parts := []struct {
		what string
		n    int
	}{
		{"the network configuration's dns", size(req.DNS)},
		{"GC's valid attachments", size(req.ValidAttachments)},
		{"CNI_ARGS", len(req.Args)},
		{"CNI_NETNS", len(req.Netns)},
		{"CNI_CONTAINERID", len(req.ContainerID)},
		{"CNI_IFNAME", len(req.IfName)},
	}
	best := parts[0]
	for _, p := range parts[1:] {
		if p.n > best.n {
			best = p
		}
	}
	return fmt.Sprintf("%s is %d bytes of it", best.what, best.n)
}
