#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "base/file_util.h"
#include "cluster/api_client.h"
#include "cluster/image_builder.h"
#include "cluster/kubeconfig.h"
#include "cluster/node_files.h"
#include "cluster/pki.h"
#include "cluster/record.h"
#include "cluster/registry_push.h"
#include "yaml-cpp/yaml.h"

namespace berth::cluster {
namespace {

X509* ReadCert(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return cert;
}

// Whether ca signed pem, checked the way a TLS peer checks it (chain and purpose).
bool Verifies(const std::string& ca_pem, const std::string& pem, int purpose) {
  X509* ca = ReadCert(ca_pem);
  X509* cert = ReadCert(pem);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, cert, nullptr);
  X509_STORE_CTX_set_purpose(ctx, purpose);
  bool ok = X509_verify_cert(ctx) == 1;
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  X509_free(cert);
  X509_free(ca);
  return ok;
}

TEST(PkiTest, IssuedCertificatesVerifyAgainstTheirCaForTheirPurpose) {
  auto ca = CertificateAuthority::Create("kubernetes");
  ASSERT_TRUE(ca.ok()) << ca.status();
  auto server = ca->Issue({.common_name = "kube-apiserver", .dns_names = {"kubernetes.default"},
                           .ip_addresses = {"10.96.0.1", "10.87.0.2"}, .server = true});
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_TRUE(Verifies(ca->pem().certificate, server->certificate, X509_PURPOSE_SSL_SERVER));
  EXPECT_FALSE(Verifies(ca->pem().certificate, server->certificate, X509_PURPOSE_SSL_CLIENT));
  X509* cert = ReadCert(server->certificate);
  EXPECT_EQ(X509_check_ip_asc(cert, "10.87.0.2", 0), 1);
  EXPECT_EQ(X509_check_host(cert, "kubernetes.default", 0, 0, nullptr), 1);
  X509_free(cert);

  auto client = ca->Issue({.common_name = "system:node:w1", .organizations = {"system:nodes"}, .client = true});
  ASSERT_TRUE(client.ok());
  EXPECT_TRUE(Verifies(ca->pem().certificate, client->certificate, X509_PURPOSE_SSL_CLIENT));
  cert = ReadCert(client->certificate);
  char text[256];
  X509_NAME_oneline(X509_get_subject_name(cert), text, sizeof(text));
  EXPECT_STREQ(text, "/O=system:nodes/CN=system:node:w1");
  X509_free(cert);

  auto other = CertificateAuthority::Create("other");
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(Verifies(other->pem().certificate, client->certificate, X509_PURPOSE_SSL_CLIENT));
  auto reloaded = CertificateAuthority::Load(ca->pem());
  ASSERT_TRUE(reloaded.ok());
  EXPECT_FALSE(CertificateAuthority::Load({ca->pem().certificate, other->pem().key}).ok());
}

KubeconfigEntry Entry(const std::string& name) {
  return {.name = name, .server = "https://10.87.0.2:6443", .ca_certificate = "CA", .client = {"CERT", "KEY"}};
}

TEST(KubeconfigTest, MergeAddsOrReplacesOneContextAndKeepsTheRest) {
  const std::string existing = R"(apiVersion: v1
kind: Config
clusters: [{name: prod, cluster: {server: "https://prod:6443"}}]
users: [{name: prod, user: {token: abc}}]
contexts: [{name: prod, context: {cluster: prod, user: prod}}]
current-context: prod
preferences: {}
)";
  auto merged = MergeKubeconfig(existing, Entry("berth-dev"));
  ASSERT_TRUE(merged.ok()) << merged.status();
  auto twice = MergeKubeconfig(*merged, Entry("berth-dev"));
  ASSERT_TRUE(twice.ok());
  YAML::Node root = YAML::Load(*twice);
  EXPECT_EQ(root["clusters"].size(), 2u);
  EXPECT_EQ(root["contexts"].size(), 2u);
  EXPECT_EQ(root["current-context"].as<std::string>(), "berth-dev");
  EXPECT_EQ(root["clusters"][1]["cluster"]["certificate-authority-data"].as<std::string>(), "Q0E=");
  EXPECT_EQ(root["users"][0]["user"]["token"].as<std::string>(), "abc");

  auto removed = RemoveFromKubeconfig(*twice, "berth-dev");
  ASSERT_TRUE(removed.ok());
  root = YAML::Load(*removed);
  EXPECT_EQ(root["clusters"].size(), 1u);
  EXPECT_EQ(root["users"].size(), 1u);
  EXPECT_EQ(root["current-context"].as<std::string>(), "");

  EXPECT_TRUE(MergeKubeconfig("", Entry("berth-a")).ok());
  EXPECT_FALSE(MergeKubeconfig("- not a map", Entry("berth-a")).ok());
  EXPECT_FALSE(MergeKubeconfig("clusters: 3", Entry("berth-a")).ok());
  // Odd but parseable: kept as it is, or refused, never thrown.
  EXPECT_TRUE(MergeKubeconfig("clusters: [3, [a], {name: [x]}]", Entry("berth-a")).ok());
  EXPECT_NO_THROW((void)MergeKubeconfig("current-context: [a]", Entry("berth-a")));
  EXPECT_NO_THROW((void)RemoveFromKubeconfig("current-context: [a]", "berth-a"));
}

TEST(NodeFilesTest, TheControlPlaneGetsKubeadmsLayoutAndWorkersOnlyTheirOwn) {
  auto pki = NewClusterPki();
  ASSERT_TRUE(pki.ok()) << pki.status();
  ClusterSpec cluster{.name = "dev", .kubernetes_version = "v1.37.2", .etcd_version = "3.6.5",
                      .registry_port = 5001, .control_plane_name = "dev-control-plane",
                      .control_plane_ip = "10.87.0.2"};
  auto cp = NodeFiles(cluster, {"dev-control-plane", "10.87.0.2", true}, *pki);
  ASSERT_TRUE(cp.ok()) << cp.status();
  for (const char* file : {"kubernetes/pki/ca.key", "kubernetes/pki/apiserver.crt", "kubernetes/pki/sa.pub",
                           "kubernetes/pki/etcd/server.crt", "kubernetes/pki/front-proxy-client.key",
                           "kubernetes/admin.conf", "kubernetes/manifests/etcd.yaml",
                           "kubernetes/manifests/kube-apiserver.yaml", "kubernetes/scheduler.conf"}) {
    EXPECT_TRUE(cp->count(file)) << file;
  }
  EXPECT_TRUE(Verifies(pki->ca.pem().certificate, cp->at("kubernetes/pki/apiserver.crt"), X509_PURPOSE_SSL_SERVER));
  X509* apiserver = ReadCert(cp->at("kubernetes/pki/apiserver.crt"));
  EXPECT_EQ(X509_check_ip_asc(apiserver, "10.96.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(apiserver, "10.87.0.2", 0), 1);
  X509_free(apiserver);
  YAML::Node apiserver_pod = YAML::Load(cp->at("kubernetes/manifests/kube-apiserver.yaml"));
  EXPECT_EQ(apiserver_pod["spec"]["containers"][0]["image"].as<std::string>(),
            "registry.k8s.io/kube-apiserver:v1.37.2");
  EXPECT_TRUE(apiserver_pod["spec"]["hostNetwork"].as<bool>());
  YAML::Node etcd_pod = YAML::Load(cp->at("kubernetes/manifests/etcd.yaml"));
  EXPECT_EQ(etcd_pod["spec"]["containers"][0]["image"].as<std::string>(), "registry.k8s.io/etcd:3.6.5-0");
  YAML::Node node = YAML::Load(cp->at("config/node.yaml"));
  EXPECT_EQ(node["forward"][0]["port"].as<int>(), 5001);
  bool tainted = false;
  for (const auto& arg : node["services"][0]["argv"]) {
    tainted |= arg.as<std::string>() == "--register-with-taints=node-role.kubernetes.io/control-plane:NoSchedule";
  }
  EXPECT_TRUE(tainted);
  YAML::Node berthd = YAML::Load(cp->at("config/berthd.yaml"));
  EXPECT_EQ(berthd["registry"]["hosts"]["*"]["mirrors"][0].as<std::string>(), "http://127.0.0.1:5001");
  auto cni = nlohmann::json::parse(cp->at("config/cni.template"));
  EXPECT_EQ(cni["plugins"][0]["ipam"]["ranges"][0][0]["subnet"], "{{.PodCIDR}}");

  auto worker = NodeFiles(cluster, {"dev-worker", "10.87.0.3", false}, *pki);
  ASSERT_TRUE(worker.ok());
  EXPECT_FALSE(worker->count("kubernetes/pki/ca.key"));
  EXPECT_FALSE(worker->count("kubernetes/manifests/etcd.yaml"));
  YAML::Node kubelet_conf = YAML::Load(worker->at("kubernetes/kubelet.conf"));
  EXPECT_EQ(kubelet_conf["clusters"][0]["cluster"]["server"].as<std::string>(), "https://10.87.0.2:6443");
  EXPECT_EQ(NodeVolumes(true).size(), NodeVolumes(false).size() + 1);
}

TEST(NodeFilesTest, ControlPlaneImagesArePinnedByDigestOnceKnown) {
  ClusterSpec cluster{.name = "dev", .kubernetes_version = "v1.37.2", .etcd_version = "3.6.5"};
  EXPECT_EQ(ControlPlaneImage(cluster, "kube-apiserver"), "registry.k8s.io/kube-apiserver:v1.37.2");
  cluster.image_digests["kube-apiserver"] = "sha256:" + std::string(64, 'a');
  cluster.image_digests["etcd"] = "sha256:" + std::string(64, 'b');
  EXPECT_EQ(ControlPlaneImage(cluster, "kube-apiserver"),
            "registry.k8s.io/kube-apiserver:v1.37.2@sha256:" + std::string(64, 'a'));
  EXPECT_EQ(ControlPlaneImage(cluster, "etcd"), "registry.k8s.io/etcd:3.6.5-0@sha256:" + std::string(64, 'b'));
  EXPECT_EQ(ControlPlaneImage(cluster, "kube-scheduler"), "registry.k8s.io/kube-scheduler:v1.37.2");
}

TEST(NodeFilesTest, PublishedPortsGoToTheControlPlaneNode) {
  auto loopback = ParsePublishedPort("8080:30080");
  ASSERT_TRUE(loopback.ok()) << loopback.status();
  EXPECT_EQ(loopback->address, "127.0.0.1");
  EXPECT_EQ(loopback->host_port, 8080);
  EXPECT_EQ(loopback->node_port, 30080);
  auto anywhere = ParsePublishedPort("0.0.0.0:80:30081");
  ASSERT_TRUE(anywhere.ok());
  EXPECT_EQ(anywhere->address, "0.0.0.0");
  for (const char* bad : {"", "8080", "8080:", ":30080", "0:30080", "8080:70000", "x:8080:30080", "a:b",
                          "1:2:3:4", "::1:80:30080"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(ParsePublishedPort(bad).status())) << bad;
  }
  auto pki = NewClusterPki();
  ASSERT_TRUE(pki.ok());
  ClusterSpec cluster{.name = "dev", .kubernetes_version = "v1.37.2", .etcd_version = "3.6.5",
                      .control_plane_name = "dev-control-plane", .control_plane_ip = "10.87.0.2",
                      .published = {*loopback}};
  auto cp = NodeFiles(cluster, {"dev-control-plane", "10.87.0.2", true}, *pki);
  ASSERT_TRUE(cp.ok());
  YAML::Node publish = YAML::Load(cp->at("config/node.yaml"))["publish"];
  ASSERT_EQ(publish.size(), 1u);
  EXPECT_EQ(publish[0]["address"].as<std::string>(), "127.0.0.1");
  EXPECT_EQ(publish[0]["port"].as<int>(), 8080);
  EXPECT_EQ(publish[0]["target"].as<std::string>(), "10.87.0.2");
  EXPECT_EQ(publish[0]["target_port"].as<int>(), 30080);
  auto worker = NodeFiles(cluster, {"dev-worker", "10.87.0.3", false}, *pki);
  ASSERT_TRUE(worker.ok());
  EXPECT_FALSE(YAML::Load(worker->at("config/node.yaml"))["publish"]);
}

TEST(RecordTest, ARecordReadsBackAsSavedAndOlderOnesStillRead) {
  char dir_template[] = "/tmp/berth-record-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string state = dir_template;
  absl::Cleanup remove_state = [&state] { std::filesystem::remove_all(state); };
  ClusterRecord record;
  record.spec = {.name = "dev", .kubernetes_version = "v1.37.2", .etcd_version = "3.6.5",
                 .control_plane_name = "dev-control-plane", .control_plane_ip = "10.87.0.2", .dns_ip = "10.96.0.10",
                 .image_digests = {{"etcd", "sha256:" + std::string(64, 'b')}},
                 .published = {{"0.0.0.0", 8080, 30080}}};
  record.nodes = {{"dev-control-plane", true}, {"dev-worker", false}};
  std::filesystem::create_directories(ClusterDir(state, "dev"));
  ASSERT_TRUE(SaveRecord(state, record).ok());
  auto loaded = LoadRecord(state, "dev");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->spec.dns_ip, "10.96.0.10");
  EXPECT_EQ(loaded->spec.image_digests, record.spec.image_digests);
  ASSERT_EQ(loaded->spec.published.size(), 1u);
  EXPECT_EQ(loaded->spec.published[0].address, "0.0.0.0");
  EXPECT_EQ(loaded->spec.published[0].node_port, 30080);
  EXPECT_EQ(loaded->nodes.size(), 2u);
  // Written before cluster DNS and pinned images: neither.
  auto json = nlohmann::json::parse(ReadFile(ClusterDir(state, "dev") + "/cluster.json").value());
  json.erase("dns_ip");
  json.erase("image_digests");
  json.erase("published");
  ASSERT_TRUE(WriteFileAtomically(ClusterDir(state, "dev") + "/cluster.json", json.dump()).ok());
  auto older = LoadRecord(state, "dev");
  ASSERT_TRUE(older.ok()) << older.status();
  EXPECT_EQ(older->spec.dns_ip, "");
  EXPECT_TRUE(older->spec.image_digests.empty());
  EXPECT_TRUE(older->spec.published.empty());
  json["image_digests"] = "not a map";
  ASSERT_TRUE(WriteFileAtomically(ClusterDir(state, "dev") + "/cluster.json", json.dump()).ok());
  EXPECT_TRUE(absl::IsDataLoss(LoadRecord(state, "dev").status()));
}

TEST(ImageBuilderTest, TheSameFilesMakeTheSameDigests) {
  char dir_template[] = "/tmp/berth-image-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  ImageContent content{.files = {DirEntry("usr"), SymlinkEntry("bin", "usr/bin"), FileEntry("etc/passwd", "root\n"),
                                 HostFileEntry("usr/local/bin/true", "/bin/true")},
                       .entrypoint = {"/usr/local/bin/true"}};
  auto first = BuildImage(content, dir);
  auto second = BuildImage(content, dir);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first->manifest.digest, second->manifest.digest);
  EXPECT_EQ(first->layer.size, static_cast<int64_t>(std::filesystem::file_size(first->layer.file)));
  auto manifest = nlohmann::json::parse(first->manifest.data);
  EXPECT_EQ(manifest["layers"][0]["digest"], first->layer.digest);
  auto config = nlohmann::json::parse(first->config.data);
  EXPECT_EQ(config["rootfs"]["diff_ids"][0], first->layer.digest);
  EXPECT_FALSE(BuildImage({.files = {HostFileEntry("x", "/nonexistent")}}, dir).ok());
  std::filesystem::remove_all(dir);
}

TEST(RegistryPusherTest, OnlyLoopbackRegistries) {
  EXPECT_TRUE(RegistryPusher::Create("127.0.0.1:5000").ok());
  EXPECT_TRUE(RegistryPusher::Create("localhost:5000").ok());
  for (const char* bad : {"registry.example:5000", "10.0.0.1:5000", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:x"}) {
    EXPECT_FALSE(RegistryPusher::Create(bad).ok()) << bad;
  }
}

TEST(ApiClientTest, ReadyNodesReadsTheReadyCondition) {
  auto list = nlohmann::json::parse(R"({"items": [
    {"metadata": {"name": "a"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}},
    {"metadata": {"name": "b"}, "status": {"conditions": [{"type": "Ready", "status": "False"}]}},
    {"metadata": {"name": "c"}}]})");
  EXPECT_EQ(ReadyNodes(list), std::vector<std::string>{"a"});
  EXPECT_TRUE(ReadyNodes(nlohmann::json::object()).empty());
  auto odd = nlohmann::json::parse(R"({"items": [3, {"status": {"conditions": "x"}},
    {"status": {"conditions": [1, {"type": "Ready", "status": true}]}}]})");
  EXPECT_TRUE(ReadyNodes(odd).empty());
}

}  // namespace
}  // namespace berth::cluster
