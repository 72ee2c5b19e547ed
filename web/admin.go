package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"infrashare/auth"
)

func (s *Server) listOrgs(c echo.Context) error {
	limit, err := queryInt(c, "limit")
	if err != nil {
		return err
	}
	items, next, err := s.auth.ListOrgs(c.Request().Context(), actor(c), auth.OrgFilter{
		Kind: c.QueryParam("kind"), Q: c.QueryParam("q"), Limit: limit, Cursor: c.QueryParam("cursor")})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(items, next))
}

func (s *Server) createOrg(c echo.Context) error {
	var in auth.NewOrg
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	org, err := s.auth.CreateOrg(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, org)
}

func (s *Server) listUsers(c echo.Context) error {
	limit, err := queryInt(c, "limit")
	if err != nil {
		return err
	}
	items, next, err := s.auth.ListUsers(c.Request().Context(), actor(c), auth.UserFilter{
		Org: c.QueryParam("organization"), Role: c.QueryParam("role"), Q: c.QueryParam("q"),
		Limit: limit, Cursor: c.QueryParam("cursor")})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf(items, next))
}

func (s *Server) createUser(c echo.Context) error {
	var in auth.NewUser
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	u, err := s.auth.CreateUser(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, u)
}

func (s *Server) getUser(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	u, err := s.auth.GetUser(c.Request().Context(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

func (s *Server) patchUser(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in auth.UserPatch
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	u, err := s.auth.UpdateUser(c.Request().Context(), actor(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

func (s *Server) getPolicies(c echo.Context) error {
	set, err := s.policies.Get(c.Request().Context(), actor(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, set)
}

func (s *Server) putPolicies(c echo.Context) error {
	var in auth.PolicySet
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	set, err := s.policies.Put(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, set)
}
