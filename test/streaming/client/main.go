// streamclient drives a CRI streaming URL (what Exec, Attach and PortForward
// return) the way kubelet, kubectl and critest do: with client-go's own SPDY
// executor, or with -websocket its WebSocket one (v5.channel.k8s.io) and its
// SPDY-over-WebSocket port-forward tunnel (kubectl's defaults). berth's streaming
// tests run it; it is built from the Go module proxy at test time and never
// committed as a binary.
//
//	streamclient -url URL [-stdin] [-tty] [-sizes WxH,...]
//	        exec or attach: stdio passed through; exits with the remote command's
//	        code (255 for a failure of the session). With -sizes, the first size is
//	        the terminal's from the start, each next one is sent after a line of
//	        output.
//	streamclient -url URL -forward PORT
//	        port-forward: listens on a free loopback port, prints it once ready,
//	        forwards until stdin ends
//
// -ca, -cert and -key give TLS: the CA that signed the server's certificate, and
// this client's certificate and key; -insecure takes any server certificate.
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
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/transport/spdy"
	utilexec "k8s.io/client-go/util/exec"
)

// forward runs client-go's port-forwarder (kubectl port-forward's) until stdin ends.
func forward(config *rest.Config, u *url.URL, port int, websocket bool) int {
	var dialer httpstream.Dialer
	if websocket {
		tunnel, err := portforward.NewSPDYOverWebsocketDialer(u, config)
		if err != nil {
			fmt.Fprintln(os.Stderr, "streamclient:", err)
			return 255
		}
		dialer = tunnel
	} else {
		transport, upgrader, err := spdy.RoundTripperFor(config)
		if err != nil {
			fmt.Fprintln(os.Stderr, "streamclient:", err)
			return 255
		}
		dialer = spdy.NewDialer(upgrader, &http.Client{Transport: transport}, "POST", u)
	}
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

// sizes is a terminal's size queue: the first size at once, each next one once a
// line of output has gone by.
type sizes struct {
	next  chan *remotecommand.TerminalSize
	queue []remotecommand.TerminalSize
	out   io.Writer
}

func (s *sizes) Next() *remotecommand.TerminalSize { return <-s.next }

func (s *sizes) Write(p []byte) (int, error) {
	if len(s.queue) > 0 && strings.Contains(string(p), "\n") {
		size := s.queue[0]
		s.queue = s.queue[1:]
		s.next <- &size
	}
	return s.out.Write(p)
}

func parseSizes(text string, out io.Writer) (*sizes, error) {
	s := &sizes{next: make(chan *remotecommand.TerminalSize, 16), out: out}
	for _, item := range strings.Split(text, ",") {
		var size remotecommand.TerminalSize
		if _, err := fmt.Sscanf(item, "%dx%d", &size.Width, &size.Height); err != nil {
			return nil, fmt.Errorf("-sizes: %q is not WxH", item)
		}
		s.queue = append(s.queue, size)
	}
	first := s.queue[0]
	s.queue = s.queue[1:]
	s.next <- &first
	return s, nil
}

func main() {
	target := flag.String("url", "", "the streaming URL")
	stdin := flag.Bool("stdin", false, "send this program's stdin")
	tty := flag.Bool("tty", false, "ask for a terminal")
	timeout := flag.Duration("timeout", 2*time.Minute, "give up after this long")
	forwardPort := flag.Int("forward", 0, "port-forward to this port of the pod")
	websocket := flag.Bool("websocket", false, "WebSocket (v5.channel.k8s.io; port-forward: SPDY tunnelled in WebSocket)")
	sizeList := flag.String("sizes", "", "terminal sizes, WxH,...")
	ca := flag.String("ca", "", "TLS: the server's CA")
	cert := flag.String("cert", "", "TLS: this client's certificate")
	key := flag.String("key", "", "TLS: this client's key")
	insecure := flag.Bool("insecure", false, "TLS: take any server certificate (kubelet's self-signed one)")
	flag.Parse()
	config := &rest.Config{TLSClientConfig: rest.TLSClientConfig{
		CAFile: *ca, CertFile: *cert, KeyFile: *key, Insecure: *insecure}}
	u, err := url.Parse(*target)
	if err != nil || *target == "" {
		fmt.Fprintln(os.Stderr, "streamclient: -url must be a URL")
		os.Exit(2)
	}
	if *forwardPort != 0 {
		os.Exit(forward(config, u, *forwardPort, *websocket))
	}
	var executor remotecommand.Executor
	if *websocket {
		executor, err = remotecommand.NewWebSocketExecutor(config, "GET", u.String())
	} else {
		executor, err = remotecommand.NewSPDYExecutor(config, "POST", u)
	}
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
	if *sizeList != "" {
		queue, err := parseSizes(*sizeList, os.Stdout)
		if err != nil {
			fmt.Fprintln(os.Stderr, "streamclient:", err)
			os.Exit(2)
		}
		options.TerminalSizeQueue = queue
		options.Stdout = queue
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
