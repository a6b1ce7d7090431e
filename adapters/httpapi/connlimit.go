package httpapi

import (
	"container/list"
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"sync"
)

// ConnLimiter is a listener that bounds the connections clients can hold, so that connections
// without a valid token can never starve authenticated ones. A connection is "unproven" until one
// of its requests authenticates (the Server marks it through ConnContext). When a new connection
// would exceed MaxUnauthenticated unproven ones, or MaxConns in all, the oldest unproven connection
// is closed to make room; only when every connection is proven is the new one refused. An attacker
// without a token can therefore hold at most MaxUnauthenticated connections, and only until others
// arrive, while connections that authenticated stay until their idle timeout.
type ConnLimiter struct {
	net.Listener
	maxConns, maxUnproven int
	log                   *slog.Logger

	mu      sync.Mutex
	unpr    *list.List // unproven *limitedConn, oldest first
	total   int
	evicted int // unproven connections closed to make room
	refused int // new connections refused because every connection was proven
}

// NewConnLimiter bounds the connections of inner: maxConns in all, maxUnauthenticated of them
// unproven (0 means maxConns/4).
func NewConnLimiter(inner net.Listener, maxConns, maxUnauthenticated int, log *slog.Logger) *ConnLimiter {
	if maxUnauthenticated <= 0 || maxUnauthenticated > maxConns {
		maxUnauthenticated = max(1, maxConns/4)
	}
	if log == nil {
		log = slog.Default()
	}
	return &ConnLimiter{Listener: inner, maxConns: maxConns, maxUnproven: maxUnauthenticated, log: log, unpr: list.New()}
}

// Accept returns the next connection, closing the oldest unproven one when the limits are reached.
func (l *ConnLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		lc := &limitedConn{Conn: c, l: l}
		l.mu.Lock()
		var victim *limitedConn
		if l.unpr.Len() >= l.maxUnproven || l.total >= l.maxConns {
			if front := l.unpr.Front(); front != nil {
				victim = front.Value.(*limitedConn)
				l.unpr.Remove(front)
				victim.elem = nil
				l.total--
				victim.counted = false
				l.evicted++
			}
		}
		if l.total >= l.maxConns {
			l.refused++
			l.mu.Unlock()
			l.log.Warn("connection refused: every connection slot is held by authenticated clients", "remote", c.RemoteAddr().String(), "max_connections", l.maxConns)
			_ = c.Close()
			continue
		}
		l.total++
		lc.counted = true
		lc.elem = l.unpr.PushBack(lc)
		l.mu.Unlock()
		if victim != nil {
			l.log.Debug("closed an unauthenticated connection to make room", "remote", victim.RemoteAddr().String())
			_ = victim.Conn.Close()
		}
		return lc, nil
	}
}

// Stats reports the connections held, those not yet authenticated, and how many unauthenticated
// connections were closed to make room and new ones refused since the start.
func (l *ConnLimiter) Stats() (total, unauthenticated, evicted, refused int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total, l.unpr.Len(), l.evicted, l.refused
}

// limitedConn is one accepted connection of a ConnLimiter.
type limitedConn struct {
	net.Conn
	l       *ConnLimiter
	once    sync.Once
	elem    *list.Element // in l.unpr while unproven; guarded by l.mu
	counted bool          // in l.total; guarded by l.mu
}

func (c *limitedConn) prove() {
	c.l.mu.Lock()
	defer c.l.mu.Unlock()
	if c.elem != nil {
		c.l.unpr.Remove(c.elem)
		c.elem = nil
	}
}

// Close closes the connection and frees its slot.
func (c *limitedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		if c.elem != nil {
			c.l.unpr.Remove(c.elem)
			c.elem = nil
		}
		if c.counted {
			c.l.total--
			c.counted = false
		}
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}

type connKey struct{}

// ConnContext is the http.Server ConnContext of a server on a ConnLimiter (directly or under
// tls.NewListener): it lets the Server mark a connection authenticated.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if lc, ok := c.(*limitedConn); ok {
		return context.WithValue(ctx, connKey{}, lc)
	}
	return ctx
}

// proveConn marks the request's connection as authenticated, if it is a ConnLimiter's.
func proveConn(ctx context.Context) {
	if lc, ok := ctx.Value(connKey{}).(*limitedConn); ok {
		lc.prove()
	}
}
