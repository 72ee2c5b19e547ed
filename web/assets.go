package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"infrashare"
	"infrashare/registry"
)

func (s *Server) assetRoutes() {
	s.private("GET", "/assets", s.listAssets)
	s.private("POST", "/assets", s.createAsset)
	s.private("GET", "/assets/nearby", s.nearbyAssets)
	s.private("GET", "/assets/:id", s.getAsset)
	s.private("PATCH", "/assets/:id", s.patchAsset)
	s.private("DELETE", "/assets/:id", s.deleteAsset)
	s.private("GET", "/assets/:id/allocations", s.listAllocations)
	s.private("POST", "/assets/:id/allocations", s.createAllocation)
	s.private("DELETE", "/assets/:id/allocations/:allocation_id", s.releaseAllocation)
	s.private("GET", "/assets/:id/history", s.assetHistory)
}

// listParam reads a comma-separated or repeated query parameter.
func listParam(c echo.Context, name string) []string {
	var out []string
	for _, v := range c.QueryParams()[name] {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// assetFilter reads the list filters of DESIGN §4 from the query string.
func assetFilter(c echo.Context) (registry.AssetFilter, error) {
	f := registry.AssetFilter{Kinds: listParam(c, "kind"), Owner: c.QueryParam("owner"), Unit: c.QueryParam("unit"),
		Statuses: listParam(c, "status"), Q: c.QueryParam("q"), Cursor: c.QueryParam("cursor")}
	var err error
	if f.Limit, err = queryInt(c, "limit"); err != nil {
		return f, err
	}
	if f.MinFree, err = queryInt(c, "min_free"); err != nil {
		return f, err
	}
	if b := c.QueryParam("bbox"); b != "" {
		if f.BBox, err = registry.ParseBBox(b); err != nil {
			return f, err
		}
	}
	return f, nil
}

func (s *Server) listAssets(c echo.Context) error {
	f, err := assetFilter(c)
	if err != nil {
		return err
	}
	items, next, err := s.registry.List(c.Request().Context(), actor(c), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(items, next))
}

func (s *Server) createAsset(c echo.Context) error {
	var in registry.AssetInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	a, err := s.registry.Create(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, a)
}

func (s *Server) getAsset(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	a, err := s.registry.Get(c.Request().Context(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}

func (s *Server) patchAsset(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var p registry.AssetPatch
	if err := bindJSON(c, &p); err != nil {
		return err
	}
	a, err := s.registry.Update(c.Request().Context(), actor(c), id, p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}

func (s *Server) deleteAsset(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.registry.Delete(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// queryFloat reads a required number from the query string.
func queryFloat(c echo.Context, name string) (float64, error) {
	v := c.QueryParam(name)
	if v == "" {
		return 0, infrashare.Invalid(name, "is required")
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, infrashare.Invalid(name, "must be a number")
	}
	return f, nil
}

func (s *Server) nearbyAssets(c echo.Context) error {
	fields := infrashare.FieldErrors{}
	var q registry.NearbyQuery
	var err error
	for name, dst := range map[string]*float64{"lat": &q.Lat, "lon": &q.Lon, "radius_m": &q.RadiusM} {
		if *dst, err = queryFloat(c, name); err != nil {
			fields.Add(name, err.(*infrashare.Error).Fields[name])
		}
	}
	if err := fields.Err(); err != nil {
		return err
	}
	q.Kinds = listParam(c, "kind")
	if q.MinFree, err = queryInt(c, "min_free"); err != nil {
		return err
	}
	if q.Limit, err = queryInt(c, "limit"); err != nil {
		return err
	}
	items, err := s.registry.Nearby(c.Request().Context(), actor(c), q)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(items, ""))
}

func (s *Server) listAllocations(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	items, err := s.registry.Allocations(c.Request().Context(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(items, ""))
}

func (s *Server) createAllocation(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in registry.AllocationInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	al, err := s.registry.Allocate(c.Request().Context(), actor(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, al)
}

func (s *Server) releaseAllocation(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	aid, err := pathID(c, "allocation_id")
	if err != nil {
		return err
	}
	al, err := s.registry.Release(c.Request().Context(), actor(c), id, aid)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, al)
}

func (s *Server) assetHistory(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit")
	if err != nil {
		return err
	}
	items, next, err := s.registry.History(c.Request().Context(), actor(c), id, limit, c.QueryParam("cursor"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(items, next))
}
