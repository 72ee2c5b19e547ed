package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
)

// prepare signs every account in and reads what the operations need: a
// sample of the register (query points, assets to read and to file on),
// each operator's own assets with their versions, and the requests each
// account may comment on. It fails when the mix asks for an operation no
// account can make.
func (g *generator) prepare(ctx context.Context, o options, area *box, m mix, rng *rand.Rand, setup map[string]any, stderr io.Writer) error {
	for _, email := range strings.Split(o.accounts, ",") {
		if email = strings.TrimSpace(email); email == "" {
			continue
		}
		acc, err := g.c.signIn(ctx, email, o.password)
		if err != nil {
			return err
		}
		g.accounts = append(g.accounts, acc)
	}
	if len(g.accounts) == 0 {
		return errors.New("-accounts: no account to sign in with")
	}

	sampled, err := g.c.sampleAssets(ctx, g.accounts[0].token, area, o.samples, rng)
	if err != nil {
		return fmt.Errorf("sample the register: %w", err)
	}
	g.sampled = sampled
	for _, a := range sampled {
		if a.Lat != nil && a.Lon != nil {
			g.points.positions = append(g.points.positions, [2]float64{*a.Lat, *a.Lon})
		}
	}
	if len(sampled) == 0 && (m.has(opGet) || m.has(opColocation)) {
		return errors.New("the register has no assets (in -area) to read or to file requests on: fill it (infrashare seed --demo, or infrashare gen) or use -only nearby")
	}

	own := map[string]int{}
	for _, acc := range g.accounts {
		if acc.operator {
			if err := g.readOwn(ctx, acc); err != nil {
				return err
			}
			own[acc.email] = len(acc.own)
			if len(acc.own) > 0 {
				g.patchers = append(g.patchers, acc)
			}
			if _, ok := g.fileTarget(acc, rng); ok {
				g.filers = append(g.filers, acc)
			}
		}
		var reqs list[requestItem]
		if _, err := g.c.do(ctx, acc.token, "GET", "/api/v1/colocation-requests?limit=500", nil, &reqs); err != nil {
			return fmt.Errorf("list the requests of %s: %w", acc.email, err)
		}
		for _, r := range reqs.Items {
			acc.commentable = append(acc.commentable, r.ID)
		}
	}
	if m.has(opPatch) && len(g.patchers) == 0 {
		return errors.New("no signed-in operator owns an asset, so nothing can be edited: sign in with an operator of the register, or raise -reads to 1")
	}
	if m.has(opColocation) && len(g.filers) == 0 {
		return errors.New("no signed-in operator can file a request (another organisation's asset with room is needed): sign in with operators, or raise -reads to 1")
	}
	if m.has(opComment) {
		some := false
		for _, acc := range g.accounts {
			some = some || len(acc.commentable) > 0
		}
		if !some {
			return errors.New("no signed-in account is a party to a co-location request, so none can comment: raise -reads to 1")
		}
	}

	setup["accounts"] = len(g.accounts)
	setup["assets_sampled"] = len(sampled)
	setup["query_points"] = len(g.points.positions)
	setup["own_assets"] = own
	where := "uniform over " + g.points.area.String()
	if len(g.points.positions) > 0 {
		where = fmt.Sprintf("within %.0f m of %d sampled asset positions", g.points.jitterM, len(g.points.positions))
	}
	setup["points"] = where
	fmt.Fprintf(stderr, "infrashare-load: %d accounts signed in; %d assets sampled; query points %s\n", len(g.accounts), len(sampled), where)
	return nil
}

// readOwn reads the first page (up to 500) of the account's organisation's
// assets that are not decommissioned, with their versions.
func (g *generator) readOwn(ctx context.Context, acc *account) error {
	q := url.Values{"owner": {strconv.FormatInt(acc.org.ID, 10)}, "limit": {"500"},
		"status": {"planned,under_construction,in_service"}}
	page, err := g.c.listAssets(ctx, acc.token, q)
	if err != nil {
		return fmt.Errorf("list the assets of %s: %w", acc.org.Code, err)
	}
	for _, a := range page.Items {
		acc.own = append(acc.own, ownAsset{id: a.ID, version: a.Version, contact: a.Contact})
	}
	return nil
}
