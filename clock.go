package infrashare

import (
	"sync"
	"time"
)

// Clock tells the time. Services take one so that tests move time instead
// of sleeping.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock, in UTC with microsecond precision: the
// precision both databases keep.
type SystemClock struct{}

// Now returns the current instant.
func (SystemClock) Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// TestClock is a clock that only moves when told to.
type TestClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewTestClock starts a test clock at t.
func NewTestClock(t time.Time) *TestClock {
	return &TestClock{now: t.UTC().Truncate(time.Microsecond)}
}

// Now returns the clock's time.
func (c *TestClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *TestClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
