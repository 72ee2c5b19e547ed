package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"infrashare"
	"infrashare/auth"
	"infrashare/permits"
)

// adminTargetsData is the list of plan targets with the form that sets
// one.
type adminTargetsData struct {
	Metric, Unit, Year string
	Metrics            []string
	Items              []permits.TargetRow
	Form               adminForm
	Notice             string
}

// adminTargetFields are the target form's fields; a list row's link
// fills them by "set.<field>" parameters.
var adminTargetFields = []string{"plan", "metric", "unit_code", "year", "value", "note"}

func (s *Server) adminTargetsPage(c echo.Context, a auth.Actor) error {
	d := &adminTargetsData{Form: newAdminForm()}
	for _, k := range adminTargetFields {
		d.Form.Values[k] = c.QueryParam("set." + k)
	}
	return s.renderAdminTargets(c, a, d, http.StatusOK)
}

func (s *Server) renderAdminTargets(c echo.Context, a auth.Actor, d *adminTargetsData, status int) error {
	d.Metric, d.Unit, d.Year, d.Metrics = c.QueryParam("metric"), c.QueryParam("unit"), c.QueryParam("year"), permits.TargetMetrics
	if d.Form.Values["plan"] == "" {
		d.Form.Values["plan"] = permits.Plan216
	}
	v := s.newView(c, "adminpg.targets.title", d)
	d.Notice = adminNotice(v.l, c)
	f := permits.TargetFilter{Metric: d.Metric, Unit: strings.TrimSpace(d.Unit)}
	var err error
	if f.Year, err = queryInt(c, "year"); err == nil {
		d.Items, err = s.permits.Targets(c.Request().Context(), a, f)
	}
	if err != nil {
		if infrashare.ErrorCode(err) != infrashare.EINVALID {
			return err
		}
		v.Error = v.l.T("adminpg.error.filter") + " " + fieldText(err)
		status = http.StatusUnprocessableEntity
	}
	return s.render(c, status, "admin_targets", v)
}

// adminPercent reads a percentage as people type it ("40", "40,5 %") as a
// fraction.
func adminPercent(v string) (float64, bool) {
	v = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "%"))
	f, err := strconv.ParseFloat(strings.Replace(v, ",", ".", 1), 64)
	if err != nil {
		return 0, false
	}
	return f / 100, true
}

// adminTargetPut sets (or changes) one target of a plan, metric, unit and
// year.
func (s *Server) adminTargetPut(c echo.Context, a auth.Actor) error {
	d := &adminTargetsData{Form: newAdminForm()}
	for _, k := range adminTargetFields {
		d.Form.Values[k] = c.FormValue(k)
	}
	l := adminLocalizer(c)
	row := permits.TargetRow{Plan: c.FormValue("plan"), Metric: c.FormValue("metric"), UnitCode: c.FormValue("unit_code"), Note: c.FormValue("note")}
	year, yearErr := strconv.Atoi(strings.TrimSpace(c.FormValue("year")))
	row.Year = year
	if yearErr != nil {
		d.Form.Errors["year"] = l.T("adminpg.why.year")
	}
	if text := strings.TrimSpace(c.FormValue("value")); text != "" {
		if value, ok := adminPercent(text); ok {
			row.Value = &value
		} else {
			d.Form.Errors["value"] = l.T("adminpg.why.percent")
		}
	}
	var err error
	if len(d.Form.Errors) == 0 {
		_, err = s.permits.PutTargets(c.Request().Context(), a, []permits.TargetRow{row})
		if err == nil {
			return adminRedirect(c, "/admin/targets", map[string]string{"metric": row.Metric, "done": "saved"})
		}
	}
	status := http.StatusUnprocessableEntity
	if err != nil {
		if status, err = d.Form.refused(l, err, "targets[0]."); err != nil {
			return err
		}
	} else {
		d.Form.Error = l.T("adminpg.error.invalid")
	}
	return s.renderAdminTargets(c, a, d, status)
}

// adminSettingRow is a dated setting as the page shows it.
type adminSettingRow struct {
	permits.SettingRow
	Label string
	// Compact is the value on one line, for the list.
	Compact string
}

// adminSettingsData is the dated settings with the form that changes one.
type adminSettingsData struct {
	Items  []adminSettingRow
	Keys   []string
	Today  infrashare.Date
	Form   adminForm
	Notice string
}

// adminPrettyJSON indents a setting's value for reading and editing.
func adminPrettyJSON(raw []byte) string {
	var buf bytes.Buffer
	if json.Indent(&buf, raw, "", "  ") != nil {
		return string(raw)
	}
	return buf.String()
}

// adminCompactJSON writes a setting's value on one line, for the list.
func adminCompactJSON(raw []byte) string {
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return string(raw)
	}
	return buf.String()
}

// adminSettingLabel says what a setting is for, "" for a key the
// catalogue does not describe.
func adminSettingLabel(l localizer, key string) string {
	msgKey := "adminpg.setting." + key
	if _, ok := catalogues[l.lang][msgKey]; ok {
		return l.T(msgKey)
	}
	return ""
}

// adminSettingsPage lists the settings in force and scheduled. ?edit=KEY
// fills the form with the key's value in force.
func (s *Server) adminSettingsPage(c echo.Context, a auth.Actor) error {
	d := &adminSettingsData{Form: newAdminForm()}
	if key := c.QueryParam("edit"); key != "" {
		d.Form.Values["key"] = key
	}
	return s.renderAdminSettings(c, a, d, http.StatusOK)
}

func (s *Server) renderAdminSettings(c echo.Context, a auth.Actor, d *adminSettingsData, status int) error {
	rows, err := s.permits.Settings(c.Request().Context(), a)
	if err != nil {
		return err
	}
	v := s.newView(c, "adminpg.settings.title", d)
	d.Notice, d.Today = adminNotice(v.l, c), s.settings.Today()
	seen := map[string]bool{}
	// The first row of a key is the one in force (else its next one).
	editKey, fill := d.Form.Values["key"], d.Form.Values["key"] != "" && d.Form.Values["value"] == ""
	for _, r := range rows {
		d.Items = append(d.Items, adminSettingRow{SettingRow: r, Label: adminSettingLabel(v.l, r.Key), Compact: adminCompactJSON(r.Value)})
		if !seen[r.Key] {
			seen[r.Key] = true
			d.Keys = append(d.Keys, r.Key)
		}
		if fill && r.Key == editKey {
			d.Form.Values["value"], d.Form.Values["legal_basis"], fill = adminPrettyJSON(r.Value), r.LegalBasis, false
		}
	}
	if d.Form.Values["valid_from"] == "" {
		d.Form.Values["valid_from"] = d.Today.String()
	}
	return s.render(c, status, "admin_settings", v)
}

// adminSettingPut writes a setting's value from a date on (today when no
// date is given), through the service's checks.
func (s *Server) adminSettingPut(c echo.Context, a auth.Actor) error {
	d := &adminSettingsData{Form: newAdminForm()}
	for _, k := range []string{"key", "valid_from", "value", "legal_basis"} {
		d.Form.Values[k] = c.FormValue(k)
	}
	l := adminLocalizer(c)
	row := permits.SettingRow{Key: c.FormValue("key"), Value: json.RawMessage(c.FormValue("value")), LegalBasis: c.FormValue("legal_basis")}
	if text := strings.TrimSpace(c.FormValue("valid_from")); text != "" {
		from, ok := adminParseDate(text)
		if !ok {
			d.Form.Error, d.Form.Errors["valid_from"] = l.T("adminpg.error.invalid"), l.T("adminpg.why.date")
			return s.renderAdminSettings(c, a, d, http.StatusUnprocessableEntity)
		}
		row.ValidFrom = from
	}
	_, err := s.permits.PutSettings(c.Request().Context(), a, []permits.SettingRow{row})
	if err == nil {
		return adminRedirect(c, "/admin/settings", map[string]string{"done": "saved"})
	}
	status, err := d.Form.refused(l, err, "settings[0].")
	if err != nil {
		return err
	}
	return s.renderAdminSettings(c, a, d, status)
}

// adminHolidaysData is one year of the holiday calendar with the form that
// adds a day.
type adminHolidaysData struct {
	Year, Prev, Next int
	Items            []permits.Holiday
	Form             adminForm
	Notice           string
}

func (s *Server) adminHolidaysPage(c echo.Context, a auth.Actor) error {
	year, err := queryInt(c, "year")
	if err != nil {
		return err
	}
	return s.renderAdminHolidays(c, a, year, &adminHolidaysData{Form: newAdminForm()}, http.StatusOK)
}

// renderAdminHolidays shows the calendar of year (this year when 0).
func (s *Server) renderAdminHolidays(c echo.Context, a auth.Actor, year int, d *adminHolidaysData, status int) error {
	if year == 0 {
		year = s.settings.Today().Year
	}
	items, err := s.permits.Holidays(c.Request().Context(), a, year)
	if err != nil {
		return err
	}
	d.Year, d.Prev, d.Next, d.Items = year, year-1, year+1, items
	v := s.newView(c, "adminpg.holidays.title", d)
	v.Title = v.l.T("adminpg.holidays.title") + " " + strconv.Itoa(year)
	d.Notice = adminNotice(v.l, c)
	return s.render(c, status, "admin_holidays", v)
}

// adminHolidayAdd adds a day off to its year's calendar: the calendar is
// written back whole, as PUT /api/v1/holidays does.
func (s *Server) adminHolidayAdd(c echo.Context, a auth.Actor) error {
	d := &adminHolidaysData{Form: newAdminForm()}
	d.Form.Values["day"], d.Form.Values["name"] = c.FormValue("day"), c.FormValue("name")
	l := adminLocalizer(c)
	year, _ := strconv.Atoi(c.FormValue("year"))
	day, ok := adminParseDate(c.FormValue("day"))
	if !ok {
		d.Form.Error, d.Form.Errors["day"] = l.T("adminpg.error.invalid"), l.T("adminpg.why.date")
		return s.renderAdminHolidays(c, a, year, d, http.StatusUnprocessableEntity)
	}
	ctx := c.Request().Context()
	days, err := s.permits.Holidays(ctx, a, day.Year)
	if err != nil {
		return err
	}
	for _, h := range days {
		if h.Day == day {
			d.Form.Error, d.Form.Errors["day"] = l.T("adminpg.error.invalid"), l.T("adminpg.holidays.exists", h.Name)
			return s.renderAdminHolidays(c, a, day.Year, d, http.StatusUnprocessableEntity)
		}
	}
	_, err = s.permits.PutHolidays(ctx, a, day.Year, append(days, permits.Holiday{Day: day, Name: c.FormValue("name")}))
	if err == nil {
		return adminRedirect(c, "/admin/holidays", map[string]string{"year": strconv.Itoa(day.Year), "done": "saved"})
	}
	status, err := d.Form.refused(l, err, fmt.Sprintf("holidays[%d].", len(days)))
	if err != nil {
		return err
	}
	return s.renderAdminHolidays(c, a, day.Year, d, status)
}

// adminHolidayRemove takes a day off its year's calendar.
func (s *Server) adminHolidayRemove(c echo.Context, a auth.Actor) error {
	day, ok := adminParseDate(c.FormValue("day"))
	if !ok {
		return infrashare.Invalid("day", "must be a date YYYY-MM-DD")
	}
	ctx := c.Request().Context()
	days, err := s.permits.Holidays(ctx, a, day.Year)
	if err != nil {
		return err
	}
	kept := make([]permits.Holiday, 0, len(days))
	for _, h := range days {
		if h.Day != day {
			kept = append(kept, h)
		}
	}
	if len(kept) == len(days) {
		return infrashare.NotFound("holiday")
	}
	if _, err := s.permits.PutHolidays(ctx, a, day.Year, kept); err != nil {
		return err
	}
	return adminRedirect(c, "/admin/holidays", map[string]string{"year": strconv.Itoa(day.Year), "done": "removed"})
}
