// streamclient drives a CRI streaming URL (what Exec, Attach and PortForward
// return) the way kubelet, kubectl and critest do: with client-go's own SPDY
// executor. berth's streaming tests run it; it is built from the Go module proxy at
// test time and never committed as a binary.
//
//	streamclient -url URL [-stdin] [-tty]       exec or attach: stdio passed through;
//	                                           exits with the remote command's code
//	                                           (255 for a failure of the session)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"
)

func main() {
	target := flag.String("url", "", "the streaming URL")
	stdin := flag.Bool("stdin", false, "send this program's stdin")
	tty := flag.Bool("tty", false, "ask for a terminal")
	timeout := flag.Duration("timeout", 2*time.Minute, "give up after this long")
	flag.Parse()
	u, err := url.Parse(*target)
	if err != nil || *target == "" {
		fmt.Fprintln(os.Stderr, "streamclient: -url must be a URL")
		os.Exit(2)
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
