package notify

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"text/template"
	"time"

	"infrashare/auth"
)

// The e-mail texts, in Vietnamese: one subject and one opening sentence per
// event kind, inside a common frame that lists the request's facts. Kinds
// without their own text get the generic one. Kinds are matched on what
// follows "colocation." (both the action, "approve", and its past tense,
// "approved", are understood).

type orgRef struct {
	Code string
	Name string
}

// Label is "Name (CODE)", or whichever of the two is known.
func (o orgRef) Label() string {
	switch {
	case o.Name != "" && o.Code != "":
		return o.Name + " (" + o.Code + ")"
	case o.Name != "":
		return o.Name
	}
	return o.Code
}

// Who is the name, else the code, else a neutral word.
func (o orgRef) Who() string {
	switch {
	case o.Name != "":
		return o.Name
	case o.Code != "":
		return o.Code
	}
	return "Bên liên quan"
}

type mailData struct {
	Recipient      string
	Kind           string
	ObjectType     string
	ObjectID       string
	Number         string
	RawState       string
	State          string
	Purpose        string
	Requester      orgRef
	Owner          orgRef
	ReplyDeadline  string
	AcceptDeadline string
	Reason         string
	OfferRent      string
	Comment        string
	URL            string
}

type mailTemplate struct {
	subject, lead *template.Template
}

func mt(name, subject, lead string) mailTemplate {
	return mailTemplate{
		subject: template.Must(template.New(name + ".subject").Parse(subject)),
		lead:    template.Must(template.New(name + ".lead").Parse(lead)),
	}
}

var mailTemplates = map[string]mailTemplate{
	"submitted": mt("submitted", "Yêu cầu dùng chung hạ tầng mới {{.Number}} từ {{.Requester.Who}}",
		"{{.Requester.Who}} đã gửi yêu cầu dùng chung hạ tầng số {{.Number}} tới {{.Owner.Who}}. Bên sở hữu hạ tầng cần trả lời trước hạn."),
	"approve": mt("approve", "Yêu cầu {{.Number}} đã được chấp thuận",
		"{{.Owner.Who}} đã chấp thuận yêu cầu dùng chung hạ tầng số {{.Number}} và gửi đề nghị về giá thuê và điều kiện. Bên đề nghị cần chấp nhận trước hạn."),
	"request_info": mt("request_info", "Yêu cầu {{.Number}}: đề nghị bổ sung thông tin",
		"{{.Owner.Who}} đề nghị bổ sung thông tin cho yêu cầu số {{.Number}}. Thời hạn trả lời tạm dừng cho đến khi thông tin được bổ sung."),
	"answer_info": mt("answer_info", "Yêu cầu {{.Number}}: thông tin đã được bổ sung",
		"{{.Requester.Who}} đã bổ sung thông tin cho yêu cầu số {{.Number}}; thời hạn trả lời được tính tiếp."),
	"reject": mt("reject", "Yêu cầu {{.Number}} bị từ chối",
		"{{.Owner.Who}} đã từ chối yêu cầu dùng chung hạ tầng số {{.Number}}. Bên đề nghị có thể đề nghị Sở giải quyết."),
	"escalate": mt("escalate", "Yêu cầu {{.Number}} được đề nghị Sở giải quyết",
		"{{.Requester.Who}} đã đề nghị Sở Khoa học và Công nghệ giải quyết tranh chấp về yêu cầu số {{.Number}}."),
	"resolve": mt("resolve", "Tranh chấp về yêu cầu {{.Number}} đã được giải quyết",
		"Sở Khoa học và Công nghệ đã giải quyết tranh chấp về yêu cầu số {{.Number}}."),
	"accept": mt("accept", "Đề nghị cho yêu cầu {{.Number}} đã được chấp nhận",
		"{{.Requester.Who}} đã chấp nhận đề nghị của {{.Owner.Who}} cho yêu cầu số {{.Number}}."),
	"activate": mt("activate", "Yêu cầu {{.Number}} đã đưa vào sử dụng",
		"Hạ tầng theo yêu cầu số {{.Number}} đã được đưa vào sử dụng chung."),
	"terminate": mt("terminate", "Thỏa thuận dùng chung theo yêu cầu {{.Number}} đã chấm dứt",
		"Thỏa thuận dùng chung hạ tầng theo yêu cầu số {{.Number}} đã chấm dứt; phần dung lượng đã được giải phóng."),
	"withdraw": mt("withdraw", "Yêu cầu {{.Number}} đã được rút",
		"{{.Requester.Who}} đã rút yêu cầu dùng chung hạ tầng số {{.Number}}."),
	"overdue": mt("overdue", "Yêu cầu {{.Number}} đã quá hạn trả lời",
		"Yêu cầu số {{.Number}} đã quá hạn trả lời mà {{.Owner.Who}} chưa trả lời. Bên đề nghị có thể đề nghị Sở giải quyết; bên sở hữu vẫn có thể trả lời."),
	"expired": mt("expired", "Đề nghị cho yêu cầu {{.Number}} đã hết hạn",
		"Đề nghị cho yêu cầu số {{.Number}} đã hết hạn chấp nhận; phần dung lượng giữ chỗ đã được giải phóng."),
	"comment": mt("comment", "Ý kiến mới về yêu cầu {{.Number}}",
		"Có ý kiến mới về yêu cầu dùng chung hạ tầng số {{.Number}}."),
	"reminder": mt("reminder", "Nhắc hạn: yêu cầu {{.Number}} sắp đến hạn",
		`{{if eq .RawState "approved"}}Đề nghị của {{.Owner.Who}} cho yêu cầu số {{.Number}} sắp hết hạn chấp nhận{{if .AcceptDeadline}} ({{.AcceptDeadline}}){{end}}.`+
			`{{else}}Yêu cầu số {{.Number}} của {{.Requester.Who}} sắp đến hạn trả lời{{if .ReplyDeadline}} ({{.ReplyDeadline}}){{end}}.{{end}}`+
			" Vui lòng xử lý trước hạn."),
}

// pastTense maps the past-tense spellings of kinds to the actions above.
var pastTense = map[string]string{
	"submit": "submitted", "approved": "approve", "info_requested": "request_info", "info_answered": "answer_info",
	"rejected": "reject", "escalated": "escalate", "resolved": "resolve", "accepted": "accept",
	"activated": "activate", "terminated": "terminate", "withdrawn": "withdraw", "commented": "comment",
}

var genericMail = mt("generic", "Thông báo: {{.Kind}}{{if .Number}} – {{.Number}}{{end}}",
	"Có thay đổi mới{{if .Number}} về {{.Number}}{{else if .ObjectID}} về {{.ObjectType}} {{.ObjectID}}{{end}} ({{.Kind}}).")

var mailFrame = template.Must(template.New("frame").Parse(`Kính gửi {{if .Recipient}}{{.Recipient}}{{else}}Quý đơn vị{{end}},

{{.Lead}}
{{with .Data}}
{{if .Number}}Số yêu cầu: {{.Number}}
{{end}}{{if .Purpose}}Mục đích: {{.Purpose}}
{{end}}{{if .Requester.Label}}Bên đề nghị: {{.Requester.Label}}
{{end}}{{if .Owner.Label}}Bên sở hữu hạ tầng: {{.Owner.Label}}
{{end}}{{if .State}}Trạng thái: {{.State}}
{{end}}{{if .ReplyDeadline}}Hạn trả lời: {{.ReplyDeadline}}
{{end}}{{if .AcceptDeadline}}Hạn chấp nhận đề nghị: {{.AcceptDeadline}}
{{end}}{{if .OfferRent}}Giá thuê đề nghị: {{.OfferRent}}
{{end}}{{if .Reason}}Lý do: {{.Reason}}
{{end}}{{if .Comment}}Ý kiến: {{.Comment}}
{{end}}{{if .URL}}
Xem chi tiết: {{.URL}}
{{end}}{{end}}
{{"-- "}}
Thư này được gửi tự động từ hệ thống infrashare – quản lý hạ tầng viễn thông dùng chung thành phố Cần Thơ. Vui lòng không trả lời thư này.
`))

var stateNames = map[string]string{
	"submitted": "đã gửi, chờ trả lời", "info_requested": "chờ bổ sung thông tin", "approved": "đã chấp thuận, chờ chấp nhận đề nghị",
	"agreed": "đã thỏa thuận", "active": "đang sử dụng chung", "terminated": "đã chấm dứt", "rejected": "bị từ chối",
	"disputed": "đang giải quyết tranh chấp", "overdue": "quá hạn trả lời", "withdrawn": "đã rút", "expired": "hết hạn chấp nhận",
	"closed": "đã đóng",
}

var purposeNames = map[string]string{
	"bts": "lắp đặt trạm BTS", "fiber": "kéo cáp quang", "other": "khác",
}

// renderMail returns the subject and the body of an event's e-mail.
func renderMail(ev outboxEvent, recipient string) (subject, body string, err error) {
	d := mailData{Recipient: recipient, Kind: ev.Kind, ObjectType: ev.ObjectType, ObjectID: ev.ObjectID}
	var p map[string]any
	dec := json.NewDecoder(strings.NewReader(ev.Payload))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		p = nil // not an object: the generic text still goes out
	}
	d.Number = str(p["number"])
	d.RawState = str(p["state"])
	d.State = d.RawState
	if n, ok := stateNames[d.RawState]; ok {
		d.State = n
	}
	d.Purpose = str(p["purpose"])
	if n, ok := purposeNames[d.Purpose]; ok {
		d.Purpose = n
	}
	d.Requester, d.Owner = org(p["requester"]), org(p["owner"])
	d.ReplyDeadline, d.AcceptDeadline = when(str(p["reply_deadline"])), when(str(p["accept_deadline"]))
	// A deadline is shown while it matters: the reply deadline until the
	// owner answers, the acceptance deadline while an offer is open.
	switch d.RawState {
	case "", "submitted", "info_requested", "overdue":
		d.AcceptDeadline = ""
		if d.RawState == "" {
			d.AcceptDeadline = when(str(p["accept_deadline"]))
		}
	case "approved", "expired":
		d.ReplyDeadline = ""
	default:
		d.ReplyDeadline, d.AcceptDeadline = "", ""
	}
	d.Reason = str(p["reason"])
	d.Comment = str(p["comment"])
	d.URL = str(p["url"])
	if r := str(p["offer_rent_vnd"]); r != "" {
		if n, err := strconv.ParseInt(r, 10, 64); err == nil {
			d.OfferRent = vnd(n) + " đồng/năm"
		}
	}
	t, ok := genericMail, false
	if action, found := strings.CutPrefix(ev.Kind, "colocation."); found {
		if a, alias := pastTense[action]; alias {
			action = a
		}
		t, ok = mailTemplates[action]
		if !ok {
			t = genericMail
		}
	}
	var sb, lb, bb bytes.Buffer
	if err := t.subject.Execute(&sb, d); err != nil {
		return "", "", err
	}
	if err := t.lead.Execute(&lb, d); err != nil {
		return "", "", err
	}
	if err := mailFrame.Execute(&bb, struct {
		Recipient, Lead string
		Data            mailData
	}{recipient, lb.String(), d}); err != nil {
		return "", "", err
	}
	subject = "[infrashare] " + strings.Join(strings.Fields(sb.String()), " ")
	return subject, bb.String(), nil
}

func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(x)
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

func org(v any) orgRef {
	m, _ := v.(map[string]any)
	return orgRef{Code: str(m["code"]), Name: str(m["name"])}
}

// when shows an instant in Vietnam's time, a date as dd/mm/yyyy, and
// anything else as it came.
func when(s string) string {
	if s == "" {
		return ""
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.In(auth.Vietnam).Format("15:04 ngày 02/01/2006")
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.Format("02/01/2006")
	}
	return s
}

// vnd groups the digits the Vietnamese way: 12.000.000.
func vnd(n int64) string {
	neg := n < 0
	if neg {
		n = -n
	}
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
