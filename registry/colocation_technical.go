package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"infrashare"
)

// The structured technical payload of a co-location request, by purpose
// (DESIGN §4).

// BTSAntenna is one kind of antenna to mount.
type BTSAntenna struct {
	Type         string    `json:"type" validate:"required,max=100"`
	Count        int       `json:"count" validate:"required,gte=1,lte=100"`
	MountHeightM float64   `json:"mount_height_m" validate:"gte=0,lte=300"`
	AzimuthsDeg  []float64 `json:"azimuths_deg" validate:"max=36,dive,gte=0,lt=360"`
	WeightKg     float64   `json:"weight_kg" validate:"gte=0,lte=10000"`
	WindAreaM2   float64   `json:"wind_area_m2" validate:"gte=0,lte=1000"`
}

// BTSTechnical is the payload of a bts request.
type BTSTechnical struct {
	Antennas      []BTSAntenna `json:"antennas" validate:"required,min=1,max=50,dive"`
	PowerKW       float64      `json:"power_kw" validate:"gte=0,lte=1000"`
	GroundSpaceM2 float64      `json:"ground_space_m2" validate:"gte=0,lte=10000"`
}

// FiberTechnical is the payload of a fiber request.
type FiberTechnical struct {
	Cables          int     `json:"cables" validate:"required,gte=1,lte=1000"`
	CableDiameterMM float64 `json:"cable_diameter_mm" validate:"required,gt=0,lte=500"`
	Tubes           int     `json:"tubes" validate:"gte=0,lte=1000"`
}

// OtherTechnical is the payload of any other request.
type OtherTechnical struct {
	Description string `json:"description" validate:"required,max=5000"`
}

// checkTechnical decodes the payload strictly for its purpose and returns
// it in canonical JSON; errors name fields as technical.<name>.
func checkTechnical(purpose string, raw json.RawMessage) (string, error) {
	if len(bytes.TrimSpace(raw)) == 0 || string(raw) == "null" {
		return "", infrashare.Invalid("technical", "is required for purpose "+purpose)
	}
	var v any
	switch purpose {
	case "bts":
		v = &BTSTechnical{}
	case "fiber":
		v = &FiberTechnical{}
	case "other":
		v = &OtherTechnical{}
	default:
		return "", infrashare.Invalid("purpose", "must be one of: bts, fiber, other")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return "", infrashare.Invalid("technical."+name, "unknown field for purpose "+purpose)
		case asTypeError(err, &te) && te.Field != "":
			return "", infrashare.Invalid("technical."+te.Field, "has the wrong type")
		}
		return "", infrashare.Invalid("technical", "must be an object: "+err.Error())
	}
	if err := infrashare.Validate(v); err != nil {
		e := err.(*infrashare.Error)
		fields := infrashare.FieldErrors{}
		for k, r := range e.Fields {
			fields.Add("technical."+k, r)
		}
		return "", fields.Err()
	}
	if bts, ok := v.(*BTSTechnical); ok {
		for i, a := range bts.Antennas {
			for _, az := range a.AzimuthsDeg {
				if math.IsNaN(az) {
					return "", infrashare.Invalid(fmt.Sprintf("technical.antennas[%d].azimuths_deg", i), "must be numbers")
				}
			}
		}
	}
	out, err := json.Marshal(v)
	return string(out), err
}

func asTypeError(err error, target **json.UnmarshalTypeError) bool {
	te, ok := err.(*json.UnmarshalTypeError)
	if ok {
		*target = te
	}
	return ok
}
