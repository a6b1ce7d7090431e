package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	. "github.com/onsi/gomega"

	"github.com/knitter-cni/knitter/e2e/cluster"
)

// echoStream sends single echoes from a pod back to back, cycling through its destinations, each
// waiting up to its timeout for the answer, until stopped: a path that goes away for longer than the
// timeout at any moment of the stream shows up as an unanswered echo.
type echoStream struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	answered int
	failures []string
}

// startEchoStream starts the stream from p to dsts.
func startEchoStream(ctx context.Context, e cluster.Echoer, p *cluster.Pod, timeout time.Duration, dsts ...netip.Addr) *echoStream {
	ctx, cancel := context.WithCancel(ctx)
	s := &echoStream{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for i := 0; ctx.Err() == nil; i++ {
			dst := dsts[i%len(dsts)]
			err := e.Echo(ctx, p, dst, timeout)
			if ctx.Err() != nil {
				return // stopped in the middle of an echo: it says nothing about the path
			}
			s.mu.Lock()
			if err != nil {
				s.failures = append(s.failures, fmt.Sprintf("echo %d to %s: %v", i, dst, err))
			} else {
				s.answered++
			}
			s.mu.Unlock()
		}
	}()
	return s
}

// waitAnswers waits until n more echoes than before have been answered.
func (s *echoStream) waitAnswers(ctx context.Context, n int) {
	s.mu.Lock()
	want := s.answered + n
	s.mu.Unlock()
	Eventually(ctx, func() int {
		s.mu.Lock()
		defer s.mu.Unlock()
		Expect(s.failures).To(BeEmpty())
		return s.answered
	}).WithTimeout(reachTimeout).WithPolling(10*time.Millisecond).Should(BeNumerically(">=", want), "the echo stream stalled")
}

// stop ends the stream and returns how many echoes were answered and the ones that were not.
func (s *echoStream) stop() (int, []string) {
	s.cancel()
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.answered, s.failures
}
