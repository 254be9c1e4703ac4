#include "pods/sandbox_network.h"

#include <stdlib.h>

#include <mutex>
#include <set>

#include <gtest/gtest.h>

#include "base/file_util.h"
#include "base/state_db.h"
#include "pods/schema.h"
#include "pods/test_fakes.h"

namespace berth::pods {
namespace {

using fakes::FakePodNetwork;

SandboxRecord Pod(const std::string& id) {
  SandboxRecord pod;
  pod.id = id;
  pod.spec.name = "pod-" + id;
  pod.spec.namespace_name = "ns";
  pod.spec.uid = "uid-" + id;
  pod.netns_path = "/run/berth/pods/" + id + "/net";
  return pod;
}

TEST(BuildNetworkRequestTest, CarriesWhoThePodIsAndWhatItAsks) {
  SandboxRecord pod = Pod("a");
  pod.spec.ports.push_back(PortSpec{"TCP", 8080, 30080, "127.0.0.1"});
  pod.spec.annotations["kubernetes.io/ingress-bandwidth"] = "10M";
  pod.spec.annotations["berth.io/ips"] = "10.1.0.9, fd00::9";
  pod.spec.dns = DnsSpec{{"10.96.0.10"}, {"svc.local"}, {"ndots:5"}};
  auto request = BuildNetworkRequest(pod, "/kubepods/pod-a");
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->pod_id, "a");
  EXPECT_EQ(request->pod_name, "pod-a");
  EXPECT_EQ(request->pod_namespace, "ns");
  EXPECT_EQ(request->pod_uid, "uid-a");
  EXPECT_EQ(request->netns_path, pod.netns_path);
  EXPECT_EQ(request->cgroup_path, "/kubepods/pod-a");
  ASSERT_EQ(request->port_mappings.size(), 1u);
  EXPECT_EQ(request->port_mappings[0].protocol, "tcp");
  EXPECT_EQ(request->port_mappings[0].host_port, 30080);
  ASSERT_TRUE(request->bandwidth.has_value());
  EXPECT_EQ(request->bandwidth->ingress_rate, 10000000u);
  EXPECT_EQ(request->bandwidth->egress_rate, 0u);
  EXPECT_EQ(request->ips, (std::vector<std::string>{"10.1.0.9", "fd00::9"}));
  ASSERT_TRUE(request->dns.has_value());
  EXPECT_EQ(request->dns->servers, (std::vector<std::string>{"10.96.0.10"}));
}

TEST(BuildNetworkRequestTest, RefusesARateThatIsNoQuantity) {
  SandboxRecord pod = Pod("a");
  pod.spec.annotations["kubernetes.io/egress-bandwidth"] = "fast";
  auto request = BuildNetworkRequest(pod, "/berth/a");
  EXPECT_EQ(request.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(request.status().message().find("kubernetes.io/egress-bandwidth"), std::string::npos);
}

TEST(SandboxNetworkTest, DetachKeepsTheDebtWhenTheDelFails) {
  FakePodNetwork fake;
  SandboxNetwork network(&fake);
  SandboxRecord pod = Pod("a");
  ASSERT_TRUE(network.Attach(pod, "/berth/a").ok());
  EXPECT_TRUE(pod.network_attached);
  EXPECT_EQ(pod.ips, (std::vector<std::string>{"10.1.0.7"}));
  fake.detach_error = absl::UnavailableError("plugin down");
  EXPECT_FALSE(network.Detach(pod).ok());
  EXPECT_TRUE(pod.network_attached) << "a failed DEL is owed";
  fake.detach_error = absl::OkStatus();
  EXPECT_TRUE(network.Detach(pod).ok());
  EXPECT_FALSE(pod.network_attached);
  // Nothing owed: no DEL at all.
  EXPECT_TRUE(network.Detach(pod).ok());
  EXPECT_EQ(fake.detached.size(), 2u);
}

class SandboxNetworkRecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-sandbox-network-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto db = StateDb::Open(dir_ + "/berth.db", {&RecordSchema()});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    records_ = std::make_unique<RecordStore>(db_.get());
    ASSERT_TRUE(records_->Load().ok());
  }
  void TearDown() override { (void)RemoveAll(dir_); }

  void AddReadyPod(const std::string& id) {
    SandboxRecord pod = Pod(id);
    pod.network_attached = true;
    ASSERT_TRUE(records_->AddSandbox(pod).ok());
    fake_.cached.insert(id);
  }

  std::string dir_;
  std::unique_ptr<StateDb> db_;
  std::unique_ptr<RecordStore> records_;
  FakePodNetwork fake_;
};

TEST_F(SandboxNetworkRecoveryTest, OnlyAGoneNetworkMakesAPodNotReady) {
  AddReadyPod("healthy");
  AddReadyPod("check-fails");
  AddReadyPod("unknown");
  AddReadyPod("gone");
  fake_.probes["gone"] = {network::AttachmentState::kGone, "interface eth0 is missing"};
  fake_.probes["unknown"] = {network::AttachmentState::kUnknown, "could not enter"};
  fake_.check_errors["check-fails"] = absl::InternalError("plugin bandwidth crashed");
  // An attachment no record owns: a RunPodSandbox that died midway.
  fake_.cached.insert("orphan");
  {
    SandboxNetwork network(&fake_);
    network.Recover(*records_);
    EXPECT_EQ(fake_.detached, (std::vector<std::string>{"orphan"}));
    EXPECT_EQ(records_->GetSandbox("gone")->state, SandboxState::kNotReady);
    EXPECT_NE(network.Report("gone").find("interface eth0 is missing"), std::string::npos);
    for (const char* id : {"healthy", "check-fails", "unknown"}) {
      EXPECT_EQ(records_->GetSandbox(id)->state, SandboxState::kReady) << id;
    }
    // The plugins' CHECK runs for the pods still ready, in the background; a failure
    // is reported and condemns nothing.
    network.DrainChecks();
    EXPECT_NE(network.Report("check-fails").find("plugin bandwidth crashed"), std::string::npos);
    EXPECT_EQ(network.Report("healthy"), "");
  }
  EXPECT_EQ(fake_.checked, (std::set<std::string>{"healthy", "check-fails", "unknown"}));
  EXPECT_EQ(records_->GetSandbox("check-fails")->state, SandboxState::kReady);
}

TEST_F(SandboxNetworkRecoveryTest, CheckFailuresAreReportedUntilThePodIsForgotten) {
  AddReadyPod("p");
  fake_.check_errors["p"] = absl::InternalError("CHECK is broken");
  SandboxNetwork network(&fake_);
  network.Recover(*records_);
  network.DrainChecks();
  EXPECT_NE(network.Report("p").find("CHECK is broken"), std::string::npos) << network.Report("p");
  network.Forget("p");
  EXPECT_EQ(network.Report("p"), "");
}

}  // namespace
}  // namespace berth::pods
