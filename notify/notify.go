package notify

import (
	"context"
	"log/slog"

	"infrashare"
	"infrashare/auth"
	"infrashare/database"
)

type Service struct{}

func New(db *database.DB, clock infrashare.Clock, settings *auth.Settings, log *slog.Logger) *Service {
	return &Service{}
}

type Event struct {
	Kind, ObjectType, ObjectID string
	OrgIDs                     []int64
	Payload                    any
}

func (s *Service) Enqueue(ctx context.Context, e Event) error { return nil }
func (s *Service) Run(ctx context.Context)                    {}
