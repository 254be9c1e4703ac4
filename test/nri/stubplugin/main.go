// stubplugin: an NRI plugin on NRI's own Go stub (github.com/containerd/nri), for
// berth's interop test (test/integration/nri_test.cc). It registers at -socket as
// -idx-name, prints each event it is sent as "Event name" on stdout, one per line
// ("Synchronize" with the counts of pods and containers), and adds NRI_STUB=yes to
// the environment of every container it is asked to create. It exits when berthd
// closes the connection.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sync"

	"github.com/containerd/nri/pkg/api"
	"github.com/containerd/nri/pkg/stub"
)

type plugin struct{ mu sync.Mutex }

func (p *plugin) say(format string, args ...interface{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Printf(format+"\n", args...)
}

func (p *plugin) Synchronize(_ context.Context, pods []*api.PodSandbox, ctrs []*api.Container) ([]*api.ContainerUpdate, error) {
	p.say("Synchronize %d %d", len(pods), len(ctrs))
	return nil, nil
}

func (p *plugin) RunPodSandbox(_ context.Context, pod *api.PodSandbox) error {
	p.say("RunPodSandbox %s", pod.GetName())
	return nil
}

func (p *plugin) StopPodSandbox(_ context.Context, pod *api.PodSandbox) error {
	p.say("StopPodSandbox %s", pod.GetName())
	return nil
}

func (p *plugin) RemovePodSandbox(_ context.Context, pod *api.PodSandbox) error {
	p.say("RemovePodSandbox %s", pod.GetName())
	return nil
}

func (p *plugin) CreateContainer(_ context.Context, _ *api.PodSandbox, ctr *api.Container) (*api.ContainerAdjustment, []*api.ContainerUpdate, error) {
	p.say("CreateContainer %s", ctr.GetName())
	adjust := &api.ContainerAdjustment{}
	adjust.AddEnv("NRI_STUB", "yes")
	return adjust, nil, nil
}

func (p *plugin) StartContainer(_ context.Context, _ *api.PodSandbox, ctr *api.Container) error {
	p.say("StartContainer %s", ctr.GetName())
	return nil
}

func (p *plugin) StopContainer(_ context.Context, _ *api.PodSandbox, ctr *api.Container) ([]*api.ContainerUpdate, error) {
	p.say("StopContainer %s", ctr.GetName())
	return nil, nil
}

func (p *plugin) RemoveContainer(_ context.Context, _ *api.PodSandbox, ctr *api.Container) error {
	p.say("RemoveContainer %s", ctr.GetName())
	return nil
}

func main() {
	socket := flag.String("socket", "", "berthd's NRI socket")
	name := flag.String("name", "stub", "plugin name")
	idx := flag.String("idx", "40", "plugin index")
	flag.Parse()
	p := &plugin{}
	s, err := stub.New(p, stub.WithSocketPath(*socket), stub.WithPluginName(*name), stub.WithPluginIdx(*idx),
		stub.WithOnClose(func() { os.Exit(0) }))
	if err != nil {
		fmt.Fprintln(os.Stderr, "stubplugin:", err)
		os.Exit(1)
	}
	if err := s.Run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "stubplugin:", err)
		os.Exit(1)
	}
}
