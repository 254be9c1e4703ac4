// streamclient drives a CRI streaming URL (what Exec, Attach and PortForward
// return) the way kubelet, kubectl and critest do: with client-go's own SPDY
// executor. berth's streaming tests run it; it is built from the Go module proxy at
// test time and never committed as a binary.
//
//	streamclient -url URL [-stdin] [-tty]       exec or attach: stdio passed through;
//	                                           exits with the remote command's code
//	                                           (255 for a failure of the session)
//	streamclient -url URL -forward PORT        port-forward: listens on a free
//	                                           loopback port, prints it once ready,
//	                                           forwards until stdin ends
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/transport/spdy"
	utilexec "k8s.io/client-go/util/exec"
)

// forward runs client-go's port-forwarder (kubectl port-forward's) until stdin ends.
func forward(u *url.URL, port int) int {
	transport, upgrader, err := spdy.RoundTripperFor(&rest.Config{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "streamclient:", err)
		return 255
	}
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, "POST", u)
	stop, ready := make(chan struct{}), make(chan struct{})
	forwarder, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{fmt.Sprintf("0:%d", port)},
		stop, ready, io.Discard, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "streamclient:", err)
		return 255
	}
	done := make(chan error, 1)
	go func() { done <- forwarder.ForwardPorts() }()
	select {
	case <-ready:
	case err := <-done:
		fmt.Fprintln(os.Stderr, "streamclient:", err)
		return 255
	}
	ports, err := forwarder.GetPorts()
	if err != nil || len(ports) != 1 {
		fmt.Fprintln(os.Stderr, "streamclient: no forwarded port:", err)
		return 255
	}
	fmt.Printf("%d\n", ports[0].Local)
	go func() {
		io.Copy(io.Discard, os.Stdin)
		close(stop)
	}()
	if err := <-done; err != nil {
		fmt.Fprintln(os.Stderr, "streamclient:", err)
		return 255
	}
	return 0
}

func main() {
	target := flag.String("url", "", "the streaming URL")
	stdin := flag.Bool("stdin", false, "send this program's stdin")
	tty := flag.Bool("tty", false, "ask for a terminal")
	timeout := flag.Duration("timeout", 2*time.Minute, "give up after this long")
	forwardPort := flag.Int("forward", 0, "port-forward to this port of the pod")
	flag.Parse()
	u, err := url.Parse(*target)
	if err != nil || *target == "" {
		fmt.Fprintln(os.Stderr, "streamclient: -url must be a URL")
		os.Exit(2)
	}
	if *forwardPort != 0 {
		os.Exit(forward(u, *forwardPort))
	}
	executor, err := remotecommand.NewSPDYExecutor(&rest.Config{}, "POST", u)
	if err != nil {
		fmt.Fprintln(os.Stderr, "streamclient:", err)
		os.Exit(255)
	}
	options := remotecommand.StreamOptions{Stdout: os.Stdout, Tty: *tty}
	if !*tty {
		options.Stderr = os.Stderr
	}
	if *stdin {
		options.Stdin = io.Reader(os.Stdin)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	err = executor.StreamWithContext(ctx, options)
	var exit utilexec.ExitError
	switch {
	case err == nil:
		os.Exit(0)
	case errors.As(err, &exit):
		os.Exit(exit.ExitStatus())
	default:
		fmt.Fprintln(os.Stderr, "streamclient:", err)
		os.Exit(255)
	}
}
