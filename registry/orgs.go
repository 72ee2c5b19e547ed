package registry

import (
	"context"
	"sync"
	"time"

	"infrashare/auth"
	"infrashare/database"
)

// orgCache maps organisation ids to their public reference. Organisations
// change rarely and every asset answer names its owner, so a replica keeps
// them for a short while.
type orgCache struct {
	db       *database.DB
	mu       sync.Mutex
	byID     map[int64]auth.Organization
	byCode   map[string]auth.Organization
	loadedAt time.Time
}

const orgCacheTTL = 30 * time.Second

func (c *orgCache) load(ctx context.Context, force bool) error {
	if !force && c.byID != nil && time.Since(c.loadedAt) < orgCacheTTL {
		return nil
	}
	var orgs []auth.Organization
	if err := c.db.Conn(ctx).Find(&orgs).Error; err != nil {
		return err
	}
	c.byID = make(map[int64]auth.Organization, len(orgs))
	c.byCode = make(map[string]auth.Organization, len(orgs))
	for _, o := range orgs {
		c.byID[o.ID] = o
		c.byCode[o.Code] = o
	}
	c.loadedAt = time.Now()
	return nil
}

// get returns an organisation by id, reloading once on a miss (a new one).
func (c *orgCache) get(ctx context.Context, id int64) (auth.Organization, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.load(ctx, false); err != nil {
		return auth.Organization{}, false, err
	}
	if o, ok := c.byID[id]; ok {
		return o, true, nil
	}
	if err := c.load(ctx, true); err != nil {
		return auth.Organization{}, false, err
	}
	o, ok := c.byID[id]
	return o, ok, nil
}

// byCodeGet returns an organisation by code.
func (c *orgCache) byCodeGet(ctx context.Context, code string) (auth.Organization, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.load(ctx, false); err != nil {
		return auth.Organization{}, false, err
	}
	if o, ok := c.byCode[code]; ok {
		return o, true, nil
	}
	if err := c.load(ctx, true); err != nil {
		return auth.Organization{}, false, err
	}
	o, ok := c.byCode[code]
	return o, ok, nil
}

func refOf(o auth.Organization) auth.OrgRef {
	return auth.OrgRef{ID: o.ID, Code: o.Code, Name: o.Name}
}
