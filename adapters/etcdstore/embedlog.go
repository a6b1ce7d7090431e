package etcdstore

import (
	"sync/atomic"

	"go.etcd.io/etcd/client/pkg/v3/logutil"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// benignAlways are etcd messages that say nothing to a knitter operator: the embedded server serves
// gRPC on one loopback port and runs without etcd auth by design.
var benignAlways = map[string]bool{
	"Running http and grpc server on single port. This is not recommended for production.": true,
	"simple token is not cryptographically signed":                                         true,
}

// benignOnClose are the errors etcd's serve goroutines log when their listeners close during a
// normal shutdown.
var benignOnClose = map[string]bool{
	"setting up serving from embedded etcd failed.": true,
	"stopping insecure grpc server due to error":    true,
	"stopped insecure grpc server due to error":     true,
}

// quietCore drops etcd's benign log lines, so that what the embedded server prints is worth reading.
type quietCore struct {
	zapcore.Core
	closing *atomic.Bool
}

// Check drops benign entries and defers every other decision to the wrapped core.
func (c quietCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if benignAlways[e.Message] || (c.closing.Load() && benignOnClose[e.Message]) {
		return ce
	}
	return c.Core.Check(e, ce)
}

// With keeps the filter on derived loggers.
func (c quietCore) With(fields []zapcore.Field) zapcore.Core {
	return quietCore{Core: c.Core.With(fields), closing: c.closing}
}

// newEmbedLogger builds etcd's usual stderr JSON logger at level, with the benign lines filtered.
// closing turns on the shutdown filter.
func newEmbedLogger(level string, closing *atomic.Bool) (*zap.Logger, error) {
	zc := logutil.DefaultZapLoggerConfig
	zc.Level = zap.NewAtomicLevelAt(logutil.ConvertToZapLevel(level))
	return zc.Build(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		return quietCore{Core: c, closing: closing}
	}))
}
