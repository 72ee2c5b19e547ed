package web

// Server-drawn bar charts for the report pages: the layout is computed here
// and the template writes it as inline SVG, with classes for the colours
// (the CSP forbids style attributes) and a <title> on every bar and target
// for readers that hover or use a screen reader. The data table under each
// chart carries the same figures.

// reportChart is a laid-out bar chart on a 0–100 % scale.
type reportChart struct {
	Width, Height int
	Left, Right   int // the plot's horizontal extent
	Base          int // y of the 0 % line
	Ticks         []chartTick
	Bars          []reportBar
	Targets       []chartTarget
	Labels        []chartLabel
	Legend        []chartLegend
}

type chartTick struct {
	Y     int
	Label string
}

type reportBar struct {
	X, Y, W, H     int
	Class, Title   string
	Value          string
	ValueX, ValueY int
}

type chartTarget struct {
	X1, X2, Y int
	Title     string
}

type chartLabel struct {
	X, Y int
	Text string
}

type chartLegend struct {
	X, Y   int
	Class  string
	Text   string
	Target bool
}

// chartGroup is a cluster of bars under one label, with an optional target
// line across it or, when each bar has its own target, over each bar.
type chartGroup struct {
	Label  string
	Bars   []chartValue
	Target *float64
	// TargetTitle names the group's target line.
	TargetTitle string
}

type chartValue struct {
	Value       *float64
	Class       string
	Title       string
	Target      *float64
	TargetTitle string
}

// Chart geometry in SVG user units.
const (
	chartTop       = 40 // room for the legend
	chartPlot      = 200
	chartLeft      = 52
	chartBarW      = 24
	chartBarGap    = 4
	chartGroupGap  = 28
	chartGroupMinW = 84
	chartBottom    = 34
	chartMinWidth  = 480
	chartCharW     = 8 // a generous width of a label's character
	// chartValueBars is the most bars that still get their value written
	// above them.
	chartValueBars = 16
)

// layoutChart places the groups left to right on a 0–100 % scale.
func layoutChart(groups []chartGroup, legend []chartLegend) reportChart {
	ch := reportChart{Base: chartTop + chartPlot, Left: chartLeft}
	ch.Height = ch.Base + chartBottom
	yOf := func(f float64) int { return ch.Base - int(clamp01(f)*chartPlot+0.5) }
	for _, p := range []float64{0, 0.25, 0.5, 0.75, 1} {
		ch.Ticks = append(ch.Ticks, chartTick{Y: yOf(p), Label: fmtPct(p)})
	}
	nbars := 0
	for _, g := range groups {
		nbars += len(g.Bars)
	}
	x := chartLeft + chartGroupGap/2
	for _, g := range groups {
		barsW := len(g.Bars)*chartBarW + (len(g.Bars)-1)*chartBarGap
		// Wide enough for its label, so that neighbouring labels never meet.
		groupW := max(barsW, chartGroupMinW, chartCharW*len([]rune(g.Label))+8-chartGroupGap)
		bx := x + (groupW-barsW)/2
		for _, b := range g.Bars {
			bar := reportBar{X: bx, W: chartBarW, Class: b.Class, Title: b.Title, Y: ch.Base}
			if b.Value != nil {
				bar.Y = yOf(*b.Value)
				if nbars <= chartValueBars {
					bar.Value = fmtPct(*b.Value)
				}
			}
			bar.H = ch.Base - bar.Y
			bar.ValueX, bar.ValueY = bx+chartBarW/2, bar.Y-4
			target := b.Target
			if target == nil {
				target = g.Target
			}
			// A value written across its target line is hard to read: it
			// moves just above the line.
			if target != nil {
				if ty := yOf(*target); ty >= bar.ValueY-12 && ty <= bar.ValueY+3 {
					bar.ValueY = ty - 4
				}
			}
			ch.Bars = append(ch.Bars, bar)
			if b.Target != nil {
				ch.Targets = append(ch.Targets, chartTarget{X1: bx - 2, X2: bx + chartBarW + 2, Y: yOf(*b.Target), Title: b.TargetTitle})
			}
			bx += chartBarW + chartBarGap
		}
		if g.Target != nil {
			ch.Targets = append(ch.Targets, chartTarget{X1: x - 6, X2: x + groupW + 6, Y: yOf(*g.Target), Title: g.TargetTitle})
		}
		ch.Labels = append(ch.Labels, chartLabel{X: x + groupW/2, Y: ch.Base + 20, Text: g.Label})
		x += groupW + chartGroupGap
	}
	ch.Right = x - chartGroupGap/2
	ch.Width = max(ch.Right+8, chartMinWidth)
	lx := chartLeft
	for _, l := range legend {
		l.X, l.Y = lx, 14
		ch.Legend = append(ch.Legend, l)
		// Room for the swatch and roughly 7 units a character.
		lx += 36 + 7*len([]rune(l.Text))
	}
	if lx > ch.Width {
		ch.Width = lx
	}
	return ch
}
