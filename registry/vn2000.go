package registry

// VN-2000 ⇄ WGS84 conversion for the asset import, in pure Go.
//
// VN-2000 (EPSG:4756) uses the WGS84 ellipsoid; it differs from WGS84 by a
// 7-parameter Helmert transform. Plane coordinates are Transverse Mercator
// with k0 = 0.9999, false easting 500 000 m, false northing 0 and a central
// meridian chosen per zone (3° zones such as 105°, or a provincial meridian
// such as 105°45' for Can Tho). By Vietnamese convention X is the NORTHING
// and Y the EASTING.
//
// The pipeline is
//
//	VN-2000 TM (x, y) → VN-2000 lat/lon → ECEF → Helmert → ECEF → WGS84 lat/lon
//
// and its reverse. Heights are taken as 0 on input and discarded on output,
// as PROJ does for 2D coordinates (its push/pop of the third coordinate);
// see vn2000DatumFromWGS84 for the one place where this differs from PROJ
// by about a millimetre.

import (
	"errors"
	"fmt"
	"math"
)

// WGS84 ellipsoid, which VN-2000 also uses.
const (
	vn2000A = 6378137.0
	vn2000F = 1 / 298.257223563
)

// TM parameters shared by every VN-2000 zone.
const (
	vn2000K0 = 0.9999
	vn2000FE = 500000.0
	vn2000FN = 0.0
)

// Helmert parameters of EPSG:6960 "VN-2000 to WGS 84 (2)" (onshore
// Vietnam), DIRECTION VN-2000 → WGS84, verified with PROJ 9.1.1 (Debian
// proj-bin) via `projinfo EPSG:5897`, `projinfo -k operation EPSG:6960` and
// `projinfo -s EPSG:4756 -t EPSG:4326 --spatial-test intersects -o PROJ`:
//
//   - EPSG stores them with method "Coordinate Frame rotation" (EPSG:9607):
//     tx=-191.90441429 ty=-39.30318279 tz=-111.45032835 m,
//     rx=-0.00928836 ry=+0.01975479 rz=-0.00427372 arc-seconds,
//     ds=+0.252906278 ppm.
//   - The same transform in the POSITION-VECTOR convention (EPSG:9606, the
//     PROJ `+towgs84=` form printed by `projinfo EPSG:5897`) has the
//     rotation signs flipped: rx=+0.00928836 ry=-0.01975479 rz=+0.00427372.
//
// The constants below are the position-vector form, VN-2000 → WGS84:
//
//	[Xw]   [tx]           [  1  -rz   ry ] [Xv]
//	[Yw] = [ty] + (1+ds)  [ rz    1  -rx ] [Yv]
//	[Zw]   [tz]           [-ry   rx    1 ] [Zv]
//
// Note: EPSG:5194 "VN-2000 to WGS 84 (1)" (Mekong delta blocks) has other
// parameters; PROJ picks it for `cs2cs EPSG:4326 EPSG:5897` in Can Tho and
// Ho Chi Minh City (≈0.8 m different). This converter always uses EPSG:6960.
const (
	vn2000TX     = -191.90441429
	vn2000TY     = -39.30318279
	vn2000TZ     = -111.45032835
	vn2000RXsec  = +0.00928836
	vn2000RYsec  = -0.01975479
	vn2000RZsec  = +0.00427372
	vn2000DSppm  = +0.252906278
	vn2000SecRad = math.Pi / (180 * 3600)
)

// Accepted ranges.
const (
	vn2000MinLon0 = 102.0
	vn2000MaxLon0 = 110.0
	vn2000MinLat  = 5.0
	vn2000MaxLat  = 25.0
	vn2000MinLon  = 100.0
	vn2000MaxLon  = 112.0
	// The datum shift is far below 0.01°, so an intermediate VN-2000
	// latitude/longitude outside the box widened by this margin cannot give a
	// WGS84 result inside it; rejecting early keeps the maths away from poles.
	vn2000BoxMargin = 1.0
)

// Krüger series coefficients (Karney 2011, to n^6), computed once.
var vn2000TM = newVN2000TMSeries()

type vn2000TMSeries struct {
	e     float64    // first eccentricity
	e2    float64    // e²
	a     float64    // rectifying radius A
	alpha [7]float64 // forward coefficients, index 1..6
	beta  [7]float64 // inverse coefficients, index 1..6
}

func newVN2000TMSeries() vn2000TMSeries {
	f := vn2000F
	n := f / (2 - f)
	n2, n3 := n*n, n*n*n
	n4, n5, n6 := n2*n2, n2*n3, n3*n3
	var s vn2000TMSeries
	s.e2 = f * (2 - f)
	s.e = math.Sqrt(s.e2)
	s.a = vn2000A / (1 + n) * (1 + n2/4 + n4/64 + n6/256)
	s.alpha = [7]float64{0,
		n/2 - 2*n2/3 + 5*n3/16 + 41*n4/180 - 127*n5/288 + 7891*n6/37800,
		13*n2/48 - 3*n3/5 + 557*n4/1440 + 281*n5/630 - 1983433*n6/1935360,
		61*n3/240 - 103*n4/140 + 15061*n5/26880 + 167603*n6/181440,
		49561*n4/161280 - 179*n5/168 + 6601661*n6/7257600,
		34729*n5/80640 - 3418889*n6/1995840,
		212378941 * n6 / 319334400,
	}
	s.beta = [7]float64{0,
		n/2 - 2*n2/3 + 37*n3/96 - n4/360 - 81*n5/512 + 96199*n6/604800,
		n2/48 + n3/15 - 437*n4/1440 + 46*n5/105 - 1118711*n6/3870720,
		17*n3/480 - 37*n4/840 - 209*n5/4480 + 5569*n6/90720,
		4397*n4/161280 - 11*n5/504 - 830251*n6/7257600,
		4583*n5/161280 - 108847*n6/3991680,
		20648693 * n6 / 638668800,
	}
	return s
}

// VN2000ToWGS84 converts a VN-2000 TM point (x = northing, y = easting, metres) in the zone of central meridian lon0 (degrees, k0 = 0.9999, false easting 500 000 m) to WGS84 latitude and longitude in degrees.
func VN2000ToWGS84(x, y, lon0 float64) (lat, lon float64, err error) {
	if !vn2000Finite(x) || !vn2000Finite(y) {
		return 0, 0, fmt.Errorf("VN-2000 coordinates must be finite numbers, got x (northing) = %.4f, y (easting) = %.4f", x, y)
	}
	if err := vn2000CheckLon0(lon0); err != nil {
		return 0, 0, err
	}
	lat, lon, err = vn2000ToWGS84(x, y, lon0)
	if err == nil {
		return lat, lon, nil
	}
	// A common mistake is giving easting/northing in the GIS order; say so
	// when swapping them would have worked.
	if _, _, swapErr := vn2000ToWGS84(y, x, lon0); swapErr == nil {
		err = fmt.Errorf("%w; x and y look swapped: in VN-2000 x is the northing and y the easting", err)
	}
	return 0, 0, err
}

func vn2000ToWGS84(x, y, lon0 float64) (lat, lon float64, err error) {
	outside := func() error {
		return fmt.Errorf("VN-2000 point x (northing) = %.3f m, y (easting) = %.3f m with central meridian %g° lies outside Vietnam (lat %g..%g°, lon %g..%g°)",
			x, y, lon0, vn2000MinLat, vn2000MaxLat, vn2000MinLon, vn2000MaxLon)
	}
	// The inverse projection is periodic in the northing (one turn round a
	// meridian, about 40 000 km): x = 41 721 485 m came back as a point in
	// Vietnam (found by FuzzVN2000ToWGS84). Vietnam's northings lie within
	// 0..3 000 km and its eastings within 2 000 km of the false easting.
	if x < 0 || x > 3_500_000 || math.Abs(y-500_000) > 2_000_000 {
		return 0, 0, outside()
	}
	vlat, vlon := vn2000TMInverse(x, y, lon0)
	if !vn2000Finite(vlat) || !vn2000Finite(vlon) ||
		vlat < vn2000MinLat-vn2000BoxMargin || vlat > vn2000MaxLat+vn2000BoxMargin ||
		vlon < vn2000MinLon-vn2000BoxMargin || vlon > vn2000MaxLon+vn2000BoxMargin {
		return 0, 0, outside()
	}
	lat, lon = vn2000DatumToWGS84(vlat, vlon)
	// A point that WGS84ToVN2000 accepted on the box's very edge can come
	// back an ulp outside it (found by FuzzVN2000RoundTrip): allow 1e-9°
	// (0.1 mm) and clamp, so that every accepted point converts back.
	const edge = 1e-9
	if !(lat >= vn2000MinLat-edge && lat <= vn2000MaxLat+edge && lon >= vn2000MinLon-edge && lon <= vn2000MaxLon+edge) {
		return 0, 0, outside()
	}
	return min(max(lat, vn2000MinLat), vn2000MaxLat), min(max(lon, vn2000MinLon), vn2000MaxLon), nil
}

// WGS84ToVN2000 is the inverse.
func WGS84ToVN2000(lat, lon, lon0 float64) (x, y float64, err error) {
	if !vn2000Finite(lat) || !vn2000Finite(lon) {
		return 0, 0, fmt.Errorf("WGS84 latitude and longitude must be finite numbers, got lat = %v, lon = %v", lat, lon)
	}
	if err := vn2000CheckLon0(lon0); err != nil {
		return 0, 0, err
	}
	if !vn2000InBox(lat, lon) {
		msg := fmt.Sprintf("WGS84 point lat = %g°, lon = %g° lies outside Vietnam (lat %g..%g°, lon %g..%g°)",
			lat, lon, vn2000MinLat, vn2000MaxLat, vn2000MinLon, vn2000MaxLon)
		if vn2000InBox(lon, lat) {
			msg += "; latitude and longitude look swapped"
		}
		return 0, 0, errors.New(msg)
	}
	vlat, vlon := vn2000DatumFromWGS84(lat, lon)
	x, y = vn2000TMForward(vlat, vlon, lon0)
	if !vn2000Finite(x) || !vn2000Finite(y) {
		return 0, 0, fmt.Errorf("WGS84 point lat = %g°, lon = %g° could not be projected to VN-2000 with central meridian %g°", lat, lon, lon0)
	}
	return x, y, nil
}

// vn2000DatumToWGS84 shifts a VN-2000 latitude/longitude (degrees, height
// 0) to WGS84, exactly as PROJ's 2D pipeline does: to ECEF, Helmert, back to
// latitude/longitude, height dropped.
func vn2000DatumToWGS84(vlat, vlon float64) (lat, lon float64) {
	X, Y, Z := vn2000GeodeticToECEF(vlat, vlon)
	X, Y, Z = vn2000HelmertToWGS84(X, Y, Z)
	return vn2000ECEFToGeodetic(X, Y, Z)
}

// vn2000DatumFromWGS84 is the exact inverse of vn2000DatumToWGS84.
//
// PROJ's own WGS84 → VN-2000 step (inverse Helmert with the WGS84 height
// taken as 0) is not quite that: each direction drops a different
// ellipsoidal height (a few tens of metres), so a PROJ round trip
// WGS84 → VN-2000 → WGS84 drifts by up to ≈1.5 mm in northern Vietnam.
// Starting from PROJ's answer, a few fixed-point steps remove that drift, so
// that VN2000ToWGS84 and WGS84ToVN2000 are inverses to far below a
// millimetre (VN-2000 values imported and exported again come back
// unchanged). The result stays within ≈2 mm of PROJ's, far inside the
// 1 m accuracy EPSG gives for the transform itself.
func vn2000DatumFromWGS84(lat, lon float64) (vlat, vlon float64) {
	X, Y, Z := vn2000GeodeticToECEF(lat, lon)
	X, Y, Z = vn2000HelmertFromWGS84(X, Y, Z)
	vlat, vlon = vn2000ECEFToGeodetic(X, Y, Z)
	for i := 0; i < 5; i++ {
		flat, flon := vn2000DatumToWGS84(vlat, vlon)
		dlat, dlon := lat-flat, lon-flon
		vlat += dlat
		vlon += dlon
		if !(math.Abs(dlat) > 1e-13 || math.Abs(dlon) > 1e-13) { // also stops on NaN
			break
		}
	}
	return vlat, vlon
}

func vn2000CheckLon0(lon0 float64) error {
	if !vn2000Finite(lon0) {
		return fmt.Errorf("VN-2000 central meridian must be a finite number of degrees, got %v", lon0)
	}
	if lon0 < vn2000MinLon0 || lon0 > vn2000MaxLon0 {
		return fmt.Errorf("VN-2000 central meridian %g° is outside %g..%g° (e.g. 105 or 105.75 for 105°45')", lon0, vn2000MinLon0, vn2000MaxLon0)
	}
	return nil
}

func vn2000Finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func vn2000InBox(lat, lon float64) bool {
	return lat >= vn2000MinLat && lat <= vn2000MaxLat && lon >= vn2000MinLon && lon <= vn2000MaxLon
}

func vn2000Rad(deg float64) float64 { return deg * math.Pi / 180 }
func vn2000Deg(rad float64) float64 { return rad * 180 / math.Pi }

// vn2000GeodeticToECEF converts latitude/longitude in degrees (height 0) on
// the WGS84 ellipsoid to geocentric X, Y, Z in metres.
func vn2000GeodeticToECEF(lat, lon float64) (X, Y, Z float64) {
	phi, lam := vn2000Rad(lat), vn2000Rad(lon)
	sp, cp := math.Sincos(phi)
	sl, cl := math.Sincos(lam)
	e2 := vn2000TM.e2
	n := vn2000A / math.Sqrt(1-e2*sp*sp)
	return n * cp * cl, n * cp * sl, n * (1 - e2) * sp
}

// vn2000ECEFToGeodetic converts geocentric X, Y, Z to latitude/longitude in
// degrees on the WGS84 ellipsoid (the height is dropped). It is meant for
// points near the surface away from the poles, which the callers ensure.
func vn2000ECEFToGeodetic(X, Y, Z float64) (lat, lon float64) {
	e2 := vn2000TM.e2
	p := math.Hypot(X, Y)
	lam := math.Atan2(Y, X)
	phi := math.Atan2(Z, p*(1-e2))
	for i := 0; i < 20; i++ {
		sp := math.Sin(phi)
		n := vn2000A / math.Sqrt(1-e2*sp*sp)
		h := p/math.Cos(phi) - n
		next := math.Atan2(Z, p*(1-e2*n/(n+h)))
		done := math.Abs(next-phi) < 1e-15
		phi = next
		if done {
			break
		}
	}
	return vn2000Deg(phi), vn2000Deg(lam)
}

// vn2000HelmertToWGS84 applies the VN-2000 → WGS84 transform (position
// vector convention, small-angle rotation matrix, as PROJ does).
func vn2000HelmertToWGS84(X, Y, Z float64) (float64, float64, float64) {
	rx, ry, rz := vn2000RXsec*vn2000SecRad, vn2000RYsec*vn2000SecRad, vn2000RZsec*vn2000SecRad
	m := 1 + vn2000DSppm*1e-6
	return vn2000TX + m*(X-rz*Y+ry*Z),
		vn2000TY + m*(rz*X+Y-rx*Z),
		vn2000TZ + m*(-ry*X+rx*Y+Z)
}

// vn2000HelmertFromWGS84 is the inverse of vn2000HelmertToWGS84, computed
// as PROJ's inverse Helmert step: transpose of the rotation matrix applied
// to (P - T) / (1 + ds).
func vn2000HelmertFromWGS84(X, Y, Z float64) (float64, float64, float64) {
	rx, ry, rz := vn2000RXsec*vn2000SecRad, vn2000RYsec*vn2000SecRad, vn2000RZsec*vn2000SecRad
	m := 1 + vn2000DSppm*1e-6
	x, y, z := (X-vn2000TX)/m, (Y-vn2000TY)/m, (Z-vn2000TZ)/m
	return x + rz*y - ry*z,
		-rz*x + y + rx*z,
		ry*x - rx*y + z
}

// vn2000TMForward projects latitude/longitude in degrees to (northing,
// easting) with the Krüger series of Karney (2011), accurate to well under a
// millimetre within thousands of kilometres of the central meridian.
func vn2000TMForward(lat, lon, lon0 float64) (northing, easting float64) {
	s := &vn2000TM
	phi := vn2000Rad(lat)
	lam := vn2000Rad(lon - lon0)
	sp := math.Sin(phi)
	// tangent of the conformal latitude
	t := math.Sinh(math.Atanh(sp) - s.e*math.Atanh(s.e*sp))
	sl, cl := math.Sincos(lam)
	xi1 := math.Atan2(t, cl)
	eta1 := math.Atanh(sl / math.Sqrt(1+t*t))
	xi, eta := xi1, eta1
	for j := 1; j <= 6; j++ {
		fj := 2 * float64(j)
		xi += s.alpha[j] * math.Sin(fj*xi1) * math.Cosh(fj*eta1)
		eta += s.alpha[j] * math.Cos(fj*xi1) * math.Sinh(fj*eta1)
	}
	return vn2000FN + vn2000K0*s.a*xi, vn2000FE + vn2000K0*s.a*eta
}

// vn2000TMInverse is the inverse of vn2000TMForward: (northing, easting) to
// latitude/longitude in degrees. Absurd inputs give NaN or out-of-range
// values, never a panic or an endless loop.
func vn2000TMInverse(northing, easting, lon0 float64) (lat, lon float64) {
	s := &vn2000TM
	xi := (northing - vn2000FN) / (vn2000K0 * s.a)
	eta := (easting - vn2000FE) / (vn2000K0 * s.a)
	xi1, eta1 := xi, eta
	for j := 1; j <= 6; j++ {
		fj := 2 * float64(j)
		xi1 -= s.beta[j] * math.Sin(fj*xi) * math.Cosh(fj*eta)
		eta1 -= s.beta[j] * math.Cos(fj*xi) * math.Sinh(fj*eta)
	}
	sx, cx := math.Sincos(xi1)
	she := math.Sinh(eta1)
	// tangent of the conformal latitude, then Newton for the geodetic one
	tauP := sx / math.Sqrt(she*she+cx*cx)
	lam := math.Atan2(she, cx)
	tau := tauP
	e, e2 := s.e, s.e2
	for i := 0; i < 20; i++ {
		sigma := math.Sinh(e * math.Atanh(e*tau/math.Sqrt(1+tau*tau)))
		tauI := tau*math.Sqrt(1+sigma*sigma) - sigma*math.Sqrt(1+tau*tau)
		d := (tauP - tauI) / math.Sqrt(1+tauI*tauI) *
			(1 + (1-e2)*tau*tau) / ((1 - e2) * math.Sqrt(1+tau*tau))
		tau += d
		if !(math.Abs(d) > 1e-14*math.Max(1, math.Abs(tau))) { // also stops on NaN
			break
		}
	}
	return vn2000Deg(math.Atan(tau)), lon0 + vn2000Deg(lam)
}
