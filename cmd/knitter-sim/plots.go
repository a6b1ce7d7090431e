package main

import (
	"fmt"
	"image/color"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/knitter-cni/knitter/sim"
)

// writePlots writes latency.png (each variant's times to allocate, as an empirical CDF),
// utilisation.png (each variant's mean used addresses over virtual time), add-latency.png (CNI ADD
// latencies, as a CDF) and leaks.png (leaked ports' lifetimes, as a CDF) into dir.
func writePlots(rep sim.Report, dir string) error {
	lat := plot.New()
	lat.Title.Text = "time to allocate (" + rep.Name + ")"
	lat.X.Label.Text = "virtual ms from pod creation"
	lat.Y.Label.Text = "fraction of allocations"
	use := plot.New()
	use.Title.Text = "used addresses (" + rep.Name + ")"
	use.X.Label.Text = "virtual s"
	use.Y.Label.Text = "mean used addresses over seeds"
	cdf := func(title, x, y string) *plot.Plot {
		p := plot.New()
		p.Title.Text = title + " (" + rep.Name + ")"
		p.X.Label.Text, p.Y.Label.Text = x, y
		return p
	}
	add := cdf("CNI ADD latency", "virtual ms from the sandbox's first ADD attempt", "fraction of ADDs")
	leak := cdf("leaked ports' lifetime", "virtual ms from the pod's deletion to the reconcile's release", "fraction of leaks")
	for i, v := range rep.Variants {
		c := plotutil.Color(i)
		for _, l := range []struct {
			p *plot.Plot
			v []int64
		}{{lat, v.Latencies}, {add, v.AddLatencies}, {leak, v.Leaks}} {
			if cdf := ecdf(l.v); len(cdf) > 0 {
				if err := addLine(l.p, v.Name, cdf, c); err != nil {
					return err
				}
			}
		}
		var pts plotter.XYs
		for j, u := range v.Used {
			if u >= 0 {
				pts = append(pts, plotter.XY{X: float64(j) * sim.SampleEvery.Seconds(), Y: u})
			}
		}
		if len(pts) > 0 {
			if err := addLine(use, v.Name, pts, c); err != nil {
				return err
			}
		}
	}
	for _, p := range []struct {
		p    *plot.Plot
		file string
	}{{lat, "latency.png"}, {use, "utilisation.png"}, {add, "add-latency.png"}, {leak, "leaks.png"}} {
		p.p.Legend.Top = true
		if err := p.p.Save(16*vg.Centimeter, 10*vg.Centimeter, filepath.Join(dir, p.file)); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
	}
	return nil
}

func addLine(p *plot.Plot, name string, pts plotter.XYs, c color.Color) error {
	l, err := plotter.NewLine(pts)
	if err != nil {
		return err
	}
	l.Color = c
	l.Width = vg.Points(1.5)
	p.Add(l)
	p.Legend.Add(name, l)
	return nil
}

// ecdf is the empirical distribution of the latencies as a step line.
func ecdf(l []int64) plotter.XYs {
	s := append([]int64(nil), l...)
	slices.Sort(s)
	var pts plotter.XYs
	for i, x := range s {
		if i+1 < len(s) && s[i+1] == x {
			continue
		}
		pts = append(pts, plotter.XY{X: float64(x), Y: float64(i+1) / float64(len(s))})
	}
	return pts
}
