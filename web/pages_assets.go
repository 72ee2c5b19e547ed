package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"infrashare"
	"infrashare/auth"
	"infrashare/registry"
)

// Kinds and statuses of an asset, in the order the filters offer them.
var (
	assetKinds    = []string{"tower", "pole", "manhole", "cabinet", "duct", "conduit", "tunnel"}
	assetStatuses = []string{"planned", "under_construction", "in_service", "decommissioned"}
)

// assetsData is the asset register list with its filters.
type assetsData struct {
	Kind, Owner, Unit, Status, Q string
	Kinds, Statuses              []string
	Items                        []registry.AssetView
	NextURL                      string
	FirstURL                     string
	Paged                        bool
	// CanRegister: operators add and import their own assets.
	CanRegister bool
	// Imported is the outcome of an import just confirmed, if any.
	Imported *registry.ImportResult
}

// assetsPage lists the register with the filters of a GET form, a page at a
// time by the list's cursor.
func (s *Server) assetsPage(c echo.Context, a auth.Actor) error {
	d := assetsData{Kind: c.QueryParam("kind"), Owner: c.QueryParam("owner"), Unit: c.QueryParam("unit"),
		Status: c.QueryParam("status"), Q: c.QueryParam("q"), Kinds: assetKinds, Statuses: assetStatuses,
		CanRegister: assetformMayRegister(a), Imported: s.assetformPopImported(c)}
	f := registry.AssetFilter{Owner: d.Owner, Unit: d.Unit, Q: d.Q, Cursor: c.QueryParam("cursor"), Limit: 50}
	if d.Kind != "" {
		f.Kinds = []string{d.Kind}
	}
	if d.Status != "" {
		f.Statuses = []string{d.Status}
	}
	d.Paged = f.Cursor != ""
	q := url.Values{}
	if n, err := queryInt(c, "limit"); err == nil && n > 0 {
		f.Limit = n
		q.Set("limit", c.QueryParam("limit"))
	}
	for k, v := range map[string]string{"kind": d.Kind, "owner": d.Owner, "unit": d.Unit, "status": d.Status, "q": d.Q} {
		if v != "" {
			q.Set(k, v)
		}
	}
	d.FirstURL = "/assets"
	if len(q) > 0 {
		d.FirstURL += "?" + q.Encode()
	}
	items, next, err := s.registry.List(c.Request().Context(), a, f)
	v := s.newView(c, "assets.title", &d)
	if err != nil {
		if infrashare.ErrorCode(err) != infrashare.EINVALID {
			return err
		}
		// A bad filter: the form again, with what is wrong.
		v.Error = v.l.T("assets.error.filter") + " " + fieldText(err)
		return s.render(c, http.StatusUnprocessableEntity, "assets", v)
	}
	d.Items = items
	if next != "" {
		q.Set("cursor", next)
		d.NextURL = "/assets?" + q.Encode()
	}
	return s.render(c, http.StatusOK, "assets", v)
}

// fieldText is a validation error's fields, "name: problem; …".
func fieldText(err error) string {
	var de *infrashare.Error
	if !errors.As(err, &de) {
		return ""
	}
	out := ""
	for k, msg := range de.Fields {
		if out != "" {
			out += "; "
		}
		out += k + ": " + msg
	}
	if out == "" {
		out = de.Message
	}
	return out
}

// assetData is an asset's public face, with its tenancies and history when
// the service lets the reader see them, and what the reader may do with it.
type assetData struct {
	Asset          registry.AssetView
	ShowAlloc      bool
	Allocations    []registry.AllocationView
	ShowHistory    bool
	History        []auth.AuditEvent
	MoreHistoryURL string
	// CanEdit: the owner's operators edit and record their own use.
	CanEdit bool
	// CanRequest: an operator of another organisation may ask to share.
	CanRequest bool
	NearbyURL  string
	OwnUse     *ownUseForm
}

func (s *Server) assetPage(c echo.Context, a auth.Actor) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	return s.renderAsset(c, a, id, http.StatusOK, &ownUseForm{Units: "1"})
}

// renderAsset shows an asset's page with status; ownUse is the owner's
// own-use form as typed (with its errors after a refused post).
func (s *Server) renderAsset(c echo.Context, a auth.Actor, id int64, status int, ownUse *ownUseForm) error {
	ctx := c.Request().Context()
	asset, err := s.registry.Get(ctx, a, id)
	if err != nil {
		return err
	}
	d := assetData{Asset: asset}
	allocs, err := s.registry.Allocations(ctx, a, id)
	if err != nil {
		return err
	}
	d.Allocations = allocs
	d.ShowAlloc = a.SeesEverything() || asset.Owner.ID == a.OrgID || len(allocs) > 0
	hist, next, err := s.registry.History(ctx, a, id, 20, "")
	switch {
	case err == nil:
		d.ShowHistory, d.History = true, hist
		if next != "" {
			d.MoreHistoryURL = fmt.Sprintf("/api/v1/assets/%d/history?cursor=%s", id, url.QueryEscape(next))
		}
	case infrashare.ErrorCode(err) == infrashare.EFORBIDDEN:
	default:
		return err
	}
	own := assetformMayRegister(a) && asset.Owner.ID == a.OrgID
	d.CanEdit = own
	if own {
		d.OwnUse = ownUse
	}
	d.CanRequest = assetformMayRegister(a) && !own && asset.Capacity.Free > 0 && asset.Status != "decommissioned"
	d.NearbyURL = assetformNearbyURL(asset)
	v := s.newView(c, "asset.title", d)
	v.Title = v.l.T("asset.title") + " " + asset.Code
	return s.render(c, status, "asset", v)
}
