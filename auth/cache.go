package auth

import (
	"sync"
	"time"

	"infrashare"
)

// actorTTL is how long a replica may trust a cached actor: a disabled user
// or a revoked token elsewhere takes effect here within this time.
const actorTTL = 5 * time.Second

// actorCache remembers recently authenticated actors for actorTTL.
type actorCache struct {
	clock infrashare.Clock
	mu    sync.Mutex
	m     map[string]cachedActor
}

type cachedActor struct {
	actor Actor
	until time.Time
}

func newActorCache(clock infrashare.Clock) *actorCache {
	return &actorCache{clock: clock, m: map[string]cachedActor{}}
}

func (c *actorCache) get(key string) (Actor, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || !c.clock.Now().Before(e.until) {
		return Actor{}, false
	}
	return e.actor, true
}

// put caches a for actorTTL, or less when hardLimit (a token's expiry) comes
// sooner.
func (c *actorCache) put(key string, a Actor, hardLimit time.Time) {
	now := c.clock.Now()
	until := now.Add(actorTTL)
	if !hardLimit.IsZero() && hardLimit.Before(until) {
		until = hardLimit
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) > 10000 {
		for k, e := range c.m {
			if !now.Before(e.until) {
				delete(c.m, k)
			}
		}
	}
	c.m[key] = cachedActor{a, until}
}

func (c *actorCache) drop(key string) {
	c.mu.Lock()
	delete(c.m, key)
	c.mu.Unlock()
}

// dropWhere removes every entry whose actor matches.
func (c *actorCache) dropWhere(match func(Actor) bool) {
	c.mu.Lock()
	for k, e := range c.m {
		if match(e.actor) {
			delete(c.m, k)
		}
	}
	c.mu.Unlock()
}
