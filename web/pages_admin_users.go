package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"infrashare"
	"infrashare/auth"
)

// adminRoles are the roles in the order the forms offer them.
var adminRoles = []string{auth.RoleOperator, auth.RoleOfficer, auth.RoleAuditor, auth.RoleAdmin}

// adminOrgKinds are the organisation kinds in the order the forms offer
// them.
var adminOrgKinds = []string{auth.KindOperator, auth.KindAuthority, auth.KindDepartment, auth.KindAdmin}

// adminUsersData is the user list with its filters and the new-user form.
type adminUsersData struct {
	Org, Role, Disabled, Q string
	Roles                  []string
	Orgs                   []auth.OrgView
	Items                  []auth.UserView
	NextURL, FirstURL      string
	Paged                  bool
	Form                   adminForm
	FormRoles              []string
	Notice                 string
}

// adminOrgChoices are the organisations a form offers (the service's
// largest page: enough for a city's operators and authorities).
func (s *Server) adminOrgChoices(c echo.Context, a auth.Actor) ([]auth.OrgView, error) {
	orgs, _, err := s.auth.ListOrgs(c.Request().Context(), a, auth.OrgFilter{Limit: auth.MaxLimit})
	return orgs, err
}

// adminUsersPage lists users by the filters of a GET form, a page at a
// time, with the form that creates one.
func (s *Server) adminUsersPage(c echo.Context, a auth.Actor) error {
	d := &adminUsersData{Form: newAdminForm()}
	return s.renderAdminUsers(c, a, d, http.StatusOK)
}

// renderAdminUsers reads the list the query asks for and renders the page
// with d's form.
func (s *Server) renderAdminUsers(c echo.Context, a auth.Actor, d *adminUsersData, status int) error {
	d.Org, d.Role, d.Disabled, d.Q = c.QueryParam("organization"), c.QueryParam("role"), c.QueryParam("disabled"), c.QueryParam("q")
	d.Roles = adminRoles
	f := auth.UserFilter{Org: d.Org, Role: d.Role, Q: d.Q, Cursor: c.QueryParam("cursor"), Limit: 50}
	switch d.Disabled {
	case "true", "false":
		disabled := d.Disabled == "true"
		f.Disabled = &disabled
	default:
		d.Disabled = ""
	}
	v := s.newView(c, "adminpg.users.title", d)
	d.Notice = adminNotice(v.l, c)
	params := map[string]string{"organization": d.Org, "role": d.Role, "disabled": d.Disabled, "q": d.Q}
	d.FirstURL, d.Paged = adminQuery("/admin/users", params), f.Cursor != ""
	ctx := c.Request().Context()
	items, next, err := s.auth.ListUsers(ctx, a, f)
	if err != nil {
		if infrashare.ErrorCode(err) != infrashare.EINVALID {
			return err
		}
		v.Error = v.l.T("adminpg.error.filter") + " " + fieldText(err)
		status = http.StatusUnprocessableEntity
	}
	d.Items = items
	if next != "" {
		params["cursor"] = next
		d.NextURL = adminQuery("/admin/users", params)
	}
	if d.Orgs, err = s.adminOrgChoices(c, a); err != nil {
		return err
	}
	return s.render(c, status, "admin_users", v)
}

// adminUserCreate creates a user from the form; a refused one shows the
// form again with the values kept (never the password).
func (s *Server) adminUserCreate(c echo.Context, a auth.Actor) error {
	form, err := c.FormParams()
	if err != nil {
		return infrashare.Errorf(infrashare.EMALFORMED, "could not read the form")
	}
	in := auth.NewUser{Email: form.Get("email"), Name: form.Get("name"), Org: form.Get("organization"),
		Roles: form["roles"], Password: form.Get("password")}
	u, err := s.auth.CreateUser(c.Request().Context(), a, in)
	if err == nil {
		return adminRedirect(c, "/admin/users/"+strconv.FormatInt(u.ID, 10), map[string]string{"done": "created"})
	}
	d := &adminUsersData{Form: newAdminForm(), FormRoles: in.Roles}
	for _, k := range []string{"email", "name", "organization"} {
		d.Form.Values[k] = form.Get(k)
	}
	l := adminLocalizer(c)
	status, err := d.Form.refused(l, err, "")
	if err != nil {
		return err
	}
	if status == http.StatusConflict {
		d.Form.Errors["email"] = l.T("adminpg.users.duplicate")
	}
	return s.renderAdminUsers(c, a, d, status)
}

// adminUserData is one user with the forms that change it.
type adminUserData struct {
	User      auth.UserView
	Self      bool
	Roles     []string
	FormRoles []string
	Form      adminForm
	Notice    string
}

func (s *Server) adminUserPage(c echo.Context, a auth.Actor) error {
	return s.renderAdminUser(c, a, newAdminForm(), nil, http.StatusOK)
}

// renderAdminUser shows the user of the path with form (and the roles the
// form had ticked, else the user's own).
func (s *Server) renderAdminUser(c echo.Context, a auth.Actor, form adminForm, formRoles []string, status int) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	u, err := s.auth.GetUser(c.Request().Context(), a, id)
	if err != nil {
		return err
	}
	if formRoles == nil {
		formRoles = u.Roles
	}
	if _, ok := form.Values["name"]; !ok {
		form.Values["name"] = u.Name
	}
	d := adminUserData{User: u, Self: u.ID == a.UserID, Roles: adminRoles, FormRoles: formRoles, Form: form}
	v := s.newView(c, "adminpg.user.title", d)
	v.Title = v.l.T("adminpg.user.title") + " " + u.Email
	d.Notice = adminNotice(v.l, c)
	v.Data = d
	return s.render(c, status, "admin_user", v)
}

// adminUserChange applies p to the user of the path: back to the user's
// page when done, else the page again with what is wrong.
func (s *Server) adminUserChange(c echo.Context, a auth.Actor, p auth.UserPatch, values map[string]string) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	_, err = s.auth.UpdateUser(c.Request().Context(), a, id, p)
	if err == nil {
		return adminRedirect(c, "/admin/users/"+strconv.FormatInt(id, 10), map[string]string{"done": "saved"})
	}
	form := newAdminForm()
	for k, v := range values {
		form.Values[k] = v
	}
	status, err := form.refused(adminLocalizer(c), err, "")
	if err != nil {
		return err
	}
	var roles []string
	if p.Roles != nil {
		roles = *p.Roles
	}
	return s.renderAdminUser(c, a, form, roles, status)
}

// adminUserUpdate renames the user and sets its roles.
func (s *Server) adminUserUpdate(c echo.Context, a auth.Actor) error {
	form, err := c.FormParams()
	if err != nil {
		return infrashare.Errorf(infrashare.EMALFORMED, "could not read the form")
	}
	name, roles := form.Get("name"), form["roles"]
	if roles == nil {
		roles = []string{} // none ticked: the service says a role is required
	}
	return s.adminUserChange(c, a, auth.UserPatch{Name: &name, Roles: &roles}, map[string]string{"name": name})
}

// adminUserDisable disables (disabled=true) or enables the user; disabling
// ends its sessions at once.
func (s *Server) adminUserDisable(c echo.Context, a auth.Actor) error {
	disabled := c.FormValue("disabled") == "true"
	return s.adminUserChange(c, a, auth.UserPatch{Disabled: &disabled}, nil)
}

// adminUserPassword sets a new password, which ends the user's sessions.
func (s *Server) adminUserPassword(c echo.Context, a auth.Actor) error {
	password := c.FormValue("password")
	return s.adminUserChange(c, a, auth.UserPatch{Password: &password}, nil)
}

// adminOrgsData is the organisation list with the new-organisation form.
type adminOrgsData struct {
	Kind, Q           string
	Kinds             []string
	Items             []auth.OrgView
	NextURL, FirstURL string
	Paged             bool
	Form              adminForm
	Notice            string
}

func (s *Server) adminOrgsPage(c echo.Context, a auth.Actor) error {
	return s.renderAdminOrgs(c, a, &adminOrgsData{Form: newAdminForm()}, http.StatusOK)
}

func (s *Server) renderAdminOrgs(c echo.Context, a auth.Actor, d *adminOrgsData, status int) error {
	d.Kind, d.Q, d.Kinds = c.QueryParam("kind"), c.QueryParam("q"), adminOrgKinds
	if d.Form.Values["kind"] == "" {
		d.Form.Values["kind"] = auth.KindOperator
	}
	f := auth.OrgFilter{Kind: d.Kind, Q: d.Q, Cursor: c.QueryParam("cursor"), Limit: 50}
	v := s.newView(c, "adminpg.orgs.title", d)
	d.Notice = adminNotice(v.l, c)
	params := map[string]string{"kind": d.Kind, "q": d.Q}
	d.FirstURL, d.Paged = adminQuery("/admin/organizations", params), f.Cursor != ""
	items, next, err := s.auth.ListOrgs(c.Request().Context(), a, f)
	if err != nil {
		return err
	}
	d.Items = items
	if next != "" {
		params["cursor"] = next
		d.NextURL = adminQuery("/admin/organizations", params)
	}
	return s.render(c, status, "admin_orgs", v)
}

// adminCodes splits a list of codes typed with spaces or commas.
func adminCodes(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

// adminOrgFields are the organisation form's fields.
var adminOrgFields = []string{"code", "name", "kind", "group", "contact.name", "contact.email", "contact.phone", "jurisdiction"}

func (s *Server) adminOrgCreate(c echo.Context, a auth.Actor) error {
	in := auth.NewOrg{Code: c.FormValue("code"), Name: c.FormValue("name"), Kind: c.FormValue("kind"), Group: c.FormValue("group"),
		Contact:      auth.Contact{Name: c.FormValue("contact.name"), Email: c.FormValue("contact.email"), Phone: c.FormValue("contact.phone")},
		Jurisdiction: adminCodes(c.FormValue("jurisdiction"))}
	org, err := s.auth.CreateOrg(c.Request().Context(), a, in)
	if err == nil {
		return adminRedirect(c, "/admin/organizations/"+strconv.FormatInt(org.ID, 10), map[string]string{"done": "created"})
	}
	d := &adminOrgsData{Form: newAdminForm()}
	for _, k := range adminOrgFields {
		d.Form.Values[k] = c.FormValue(k)
	}
	status, err := d.Form.refused(adminLocalizer(c), err, "")
	if err != nil {
		return err
	}
	if status == http.StatusConflict {
		d.Form.Errors["code"] = d.Form.Error
	}
	return s.renderAdminOrgs(c, a, d, status)
}

// adminOrgData is one organisation with its edit form.
type adminOrgData struct {
	Org    auth.OrgView
	Form   adminForm
	Notice string
}

func (s *Server) adminOrgPage(c echo.Context, a auth.Actor) error {
	return s.renderAdminOrg(c, a, newAdminForm(), http.StatusOK)
}

func (s *Server) renderAdminOrg(c echo.Context, a auth.Actor, form adminForm, status int) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	org, err := s.auth.GetOrg(c.Request().Context(), a, id)
	if err != nil {
		return err
	}
	if len(form.Values) == 0 {
		form.Values = map[string]string{"name": org.Name, "group": derefString(org.Group), "contact.name": org.Contact.Name,
			"contact.email": org.Contact.Email, "contact.phone": org.Contact.Phone, "jurisdiction": strings.Join(org.Jurisdiction, " ")}
	}
	d := adminOrgData{Org: org, Form: form}
	v := s.newView(c, "adminpg.org.title", nil)
	v.Title = v.l.T("adminpg.org.title") + " " + org.Code
	d.Notice = adminNotice(v.l, c)
	v.Data = d
	return s.render(c, status, "admin_org", v)
}

// adminOrgUpdate changes the name, group, contact and (of an authority)
// the jurisdiction; the code and the kind stay.
func (s *Server) adminOrgUpdate(c echo.Context, a auth.Actor) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	name, group := c.FormValue("name"), c.FormValue("group")
	p := auth.OrgPatch{Name: &name, Group: &group,
		Contact: &auth.Contact{Name: c.FormValue("contact.name"), Email: c.FormValue("contact.email"), Phone: c.FormValue("contact.phone")}}
	if _, sent := c.Request().PostForm["jurisdiction"]; sent {
		units := adminCodes(c.FormValue("jurisdiction"))
		p.Jurisdiction = &units
	}
	_, err = s.auth.UpdateOrg(c.Request().Context(), a, id, p)
	if err == nil {
		return adminRedirect(c, "/admin/organizations/"+strconv.FormatInt(id, 10), map[string]string{"done": "saved"})
	}
	form := newAdminForm()
	for _, k := range adminOrgFields {
		form.Values[k] = c.FormValue(k)
	}
	status, err := form.refused(adminLocalizer(c), err, "")
	if err != nil {
		return err
	}
	return s.renderAdminOrg(c, a, form, status)
}
