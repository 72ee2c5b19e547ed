package permits

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"

	"infrashare"
	"infrashare/auth"
)

// MaxAttachmentBytes is the size limit of one attachment (20 MB).
const MaxAttachmentBytes = 20_000_000

// AttachmentView describes an attached document (land papers, drawings).
type AttachmentView struct {
	ID          int64     `json:"id"`
	Filename    string    `json:"filename"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256" gorm:"column:sha256"`
	CreatedAt   time.Time `json:"created_at"`
}

type attachment struct {
	AttachmentView
	PermitID   int64
	Data       []byte
	UploadedBy int64
}

func (attachment) TableName() string { return "permit_attachments" }

// sniff names the type of a document by its first bytes; only PDF and
// images are taken, whatever the client claims.
func sniff(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("%PDF-")):
		return "application/pdf"
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		return "image/jpeg"
	}
	return ""
}

// cleanFilename keeps the last path element, printable characters only.
func cleanFilename(name, contentType string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base(name)
	name = strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) || r == '/' || r == '"' {
			return -1
		}
		return r
	}, name)
	name = strings.TrimLeft(strings.TrimSpace(name), ".")
	for utf8.RuneCountInString(name) > 200 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	if name == "" {
		name = "tai-lieu" + map[string]string{"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}[contentType]
	}
	return name
}

// Attach adds a document to the applicant's application while it is
// submitted or returned.
func (s *Service) Attach(ctx context.Context, actor auth.Actor, permitID int64, filename string, data []byte) (AttachmentView, error) {
	if len(data) == 0 {
		return AttachmentView{}, infrashare.Invalid("file", "is empty")
	}
	if len(data) > MaxAttachmentBytes {
		return AttachmentView{}, infrashare.Errorf(infrashare.ETOOLARGE, "an attachment may be at most 20 MB")
	}
	ct := sniff(data)
	if ct == "" {
		return AttachmentView{}, infrashare.Invalid("file", "must be a PDF, PNG or JPEG document")
	}
	var out AttachmentView
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		p, err := s.load(ctx, actor, permitID)
		if err != nil {
			return err
		}
		if actor.OrgID != p.ApplicantOrgID || !actor.Has(auth.RoleOperator) {
			return infrashare.Forbidden("only the applicant attaches documents")
		}
		if p.State != StateSubmitted && p.State != StateReturned && p.State != StateExempt {
			return infrashare.Conflict("an application that is %s takes no more documents", p.State)
		}
		sum := sha256.Sum256(data)
		a := attachment{AttachmentView: AttachmentView{Filename: cleanFilename(filename, ct), ContentType: ct,
			Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), CreatedAt: s.clock.Now()},
			PermitID: permitID, Data: data, UploadedBy: actor.UserID}
		if err := s.db.Conn(ctx).Create(&a).Error; err != nil {
			return err
		}
		out = a.AttachmentView
		return s.audit.Record(ctx, actor, auth.Change{Action: "permit.attach", ObjectType: "permit",
			ObjectID: strconv.FormatInt(permitID, 10), After: out})
	})
	return out, err
}

// Attachment returns a document of an application the actor may see.
func (s *Service) Attachment(ctx context.Context, actor auth.Actor, permitID, id int64) (AttachmentView, []byte, error) {
	if _, err := s.load(ctx, actor, permitID); err != nil {
		return AttachmentView{}, nil, err
	}
	var a attachment
	err := s.db.Conn(ctx).Where("id = ? AND permit_id = ?", id, permitID).First(&a).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return AttachmentView{}, nil, infrashare.NotFound("attachment")
	}
	return a.AttachmentView, a.Data, err
}

func (s *Service) attachments(ctx context.Context, permitID int64) ([]AttachmentView, error) {
	var rows []attachment
	err := s.db.Conn(ctx).Select("id, permit_id, filename, content_type, size, sha256, created_at").
		Where("permit_id = ?", permitID).Order("id").Find(&rows).Error
	out := make([]AttachmentView, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.AttachmentView)
	}
	return out, err
}
