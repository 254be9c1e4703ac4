// berthctl's side of a streaming URL, over WebSocket (the server speaks it as well
// as SPDY, and Boost.Beast gives a WebSocket client where no SPDY library exists).
#pragma once

#include <string>

namespace berth::ctl {

// An exec or attach session on url (v5.channel.k8s.io): this process's stdin goes
// to the container (its end closing the process's stdin) when stdin is set, the
// output comes back to stdout and stderr; with tty, a terminal on stdin is put in
// raw mode and its size follows this one's. Returns the remote command's exit code,
// or 1 (after saying why) when the session failed.
int RunStreamSession(const std::string& url, bool stdin, bool tty);

// host, port and target of an http:// URL; false (after saying why) otherwise.
bool SplitStreamingUrl(const std::string& url, std::string* host, std::string* port, std::string* target);

}  // namespace berth::ctl
