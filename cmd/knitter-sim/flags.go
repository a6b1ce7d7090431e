package main

import (
	"fmt"
	"time"

	"github.com/knitter-cni/knitter/sim"
	"github.com/spf13/pflag"
)

// runFlags are the settings every run shares.
type runFlags struct {
	nodes    int
	managers int
	pods     int
	duration time.Duration
	faults   bool
	monitor  bool
	churn    bool
	netChurn bool
	netFlt   bool
	sts      bool
	drain    bool
	plant    string
	// The knobs (sim.Knobs).
	cooldown    time.Duration
	preallocate bool
	reconcile   time.Duration
	strategy    string
}

func (f *runFlags) register(fs *pflag.FlagSet) {
	def := sim.DefaultConfig(0)
	fs.IntVar(&f.nodes, "nodes", def.Nodes, "nodes, each with a real agent that CNI ADD and DEL go through (0: call the manager directly)")
	fs.IntVar(&f.managers, "managers", 1, "manager processes over the one store (1-3): one leads, the others stand by and take over")
	fs.IntVar(&f.pods, "pods", def.Pods, "live pods the workload aims for")
	fs.DurationVar(&f.duration, "duration", def.Duration, "virtual time of the fault phase (a liveness phase follows)")
	fs.BoolVar(&f.churn, "node-churn", def.NodeChurn, "with --nodes: add and remove nodes during the fault phase (a removed node's pods are replaced elsewhere, its ports released) and, with --faults, reboot them")
	fs.BoolVar(&f.netChurn, "network-churn", false, "an operator creates tenants with an overlay, vlan or macvlan network and deletes them while and after pods use them (pods that ask for a deleted network fail ADD and are retried)")
	fs.BoolVar(&f.netFlt, "net-faults", false, "with --faults: give every link between the components (agents, the monitor, the managers' store links) a delay distribution and message loss, and cut seeded sets of links at once for 1-4 s")
	fs.BoolVar(&f.drain, "node-drain", false, "with --nodes: drain nodes (cordon, evict through the normal DEL, remove) and bring removed nodes back under their names, reinstalled or with their checkpoints")
	fs.BoolVar(&f.sts, "statefulsets", def.StatefulSets, "add a StatefulSet per tenant whose members are scaled and replaced under their names, their addresses sticky to their ordinals")
	fs.BoolVar(&f.monitor, "monitor", false, "put the API server and the real monitor in the world (needs --nodes); adds watch drops, conflicts and monitor crashes to the faults")
	fs.BoolVar(&f.faults, "faults", def.Faults, "inject manager crashes, failed store writes, store outages and lost terms")
	fs.StringVar(&f.plant, "plant", "", "plant a bug on purpose (see 'knitter-sim plants')")
	fs.DurationVar(&f.cooldown, "cooldown", sim.ReuseWindow, "the manager's cooldown (0s: none)")
	fs.BoolVar(&f.preallocate, "preallocate", true, "with --monitor: the monitor pre-allocates each pod's ports (false: the agent allocates at CNI ADD)")
	fs.StringVar(&f.strategy, "strategy", "", "the manager's allocation strategy: lowest-free (the default) or next-fit")
	fs.DurationVar(&f.reconcile, "reconcile", sim.DefaultReconcile, "with --monitor: the monitor's reconcile period")
}

func (f *runFlags) config(seed uint64) (sim.Config, error) {
	p, err := sim.ParsePlant(f.plant)
	if err != nil {
		return sim.Config{}, err
	}
	c := sim.Config{Seed: seed, Nodes: f.nodes, Managers: f.managers, Pods: f.pods, Duration: f.duration, Faults: f.faults, NodeChurn: f.churn, NetworkChurn: f.netChurn, NetFaults: f.netFlt, StatefulSets: f.sts, NodeDrain: f.drain, Monitor: f.monitor, Plant: p}
	if f.cooldown != sim.ReuseWindow {
		c.Cooldown, c.NoCooldown = f.cooldown, f.cooldown == 0
	}
	c.AllocateAtAdd = !f.preallocate
	c.Strategy = f.strategy
	if f.monitor && f.reconcile != sim.DefaultReconcile {
		c.ReconcileEvery = f.reconcile
	}
	if err := c.Validate(); err != nil {
		return sim.Config{}, fmt.Errorf("--%w", err)
	}
	return c, nil
}
