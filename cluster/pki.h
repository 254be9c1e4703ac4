// The cluster's certificates, laid out as kubeadm lays them out: a cluster CA, an
// etcd CA and a front-proxy CA, each issuing the certificates the control plane and
// the nodes present. Keys are ECDSA P-256 (kubeadm's ECDSA-P256 encryption
// algorithm): generated in microseconds, where RSA-2048 takes tens of milliseconds.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace berth::cluster {

struct Pem {
  std::string certificate = {};
  std::string key = {};
};

// What one certificate says about its holder.
struct CertificateRequest {
  std::string common_name = {};
  std::vector<std::string> organizations = {};  // Kubernetes reads these as groups
  std::vector<std::string> dns_names = {};
  std::vector<std::string> ip_addresses = {};   // IPv4 or IPv6 text
  bool server = false;                     // extended key usage serverAuth
  bool client = false;                     // extended key usage clientAuth
  int valid_days = 365;
};

class CertificateAuthority {
 public:
  // A new self-signed CA valid for ten years.
  static StatusOr<CertificateAuthority> Create(const std::string& common_name);
  // One made before (its PEM files).
  static StatusOr<CertificateAuthority> Load(const Pem& pem);

  // A new key and a certificate for it, signed by this CA.
  StatusOr<Pem> Issue(const CertificateRequest& request) const;
  const Pem& pem() const { return pem_; }

 private:
  Pem pem_ = {};
};

// The service account signing key pair: a new ECDSA P-256 key (PKCS#8 PEM) and its
// public half (SubjectPublicKeyInfo PEM).
struct KeyPair {
  std::string private_key = {};
  std::string public_key = {};
};
StatusOr<KeyPair> NewKeyPair();

}  // namespace berth::cluster
