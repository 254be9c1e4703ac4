#include "cluster/pki.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace berth::cluster {

namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Free>;
using CertPtr = std::unique_ptr<X509, Free>;
using BioPtr = std::unique_ptr<BIO, Free>;

Status OpenSslError(const std::string& what) {
  char text[256] = "unknown error";
  unsigned long code = ERR_get_error();
  if (code != 0) ERR_error_string_n(code, text, sizeof(text));
  ERR_clear_error();
  return absl::InternalError(absl::StrCat(what, ": ", text));
}

StatusOr<KeyPtr> NewKey() {
  KeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return OpenSslError("generate an ECDSA P-256 key");
  return key;
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(size));
}

StatusOr<std::string> PrivateKeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return OpenSslError("allocate a memory BIO");
  if (!PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr)) {
    return OpenSslError("write a private key");
  }
  return BioText(bio.get());
}

StatusOr<std::string> CertificatePem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return OpenSslError("allocate a memory BIO");
  if (!PEM_write_bio_X509(bio.get(), cert)) return OpenSslError("write a certificate");
  return BioText(bio.get());
}

Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, Free> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext) return OpenSslError(absl::StrCat("certificate extension ", OBJ_nid2sn(nid), "=", value));
  if (!X509_add_ext(cert, ext.get(), -1)) return OpenSslError("add a certificate extension");
  return absl::OkStatus();
}

// A certificate for key, named by request, issued by issuer (itself when null).
StatusOr<CertPtr> Build(const CertificateRequest& request, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key,
                        bool ca) {
  CertPtr cert(X509_new());
  if (!cert) return OpenSslError("allocate a certificate");
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof(serial)) != 1) return OpenSslError("random serial");
  serial[0] &= 0x7f;  // positive
  std::unique_ptr<BIGNUM, decltype(&BN_free)> number(BN_bin2bn(serial, sizeof(serial), nullptr), &BN_free);
  if (!number || !BN_to_ASN1_INTEGER(number.get(), X509_get_serialNumber(cert.get()))) {
    return OpenSslError("set the serial number");
  }
  // Valid from a minute ago: a node's clock a little behind the host's still accepts it.
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(request.valid_days) * 24 * 3600);
  X509_NAME* name = X509_get_subject_name(cert.get());
  // A field OpenSSL refuses (a common name over 64 characters) fails the issue: a
  // certificate must not go out without the name it was asked for.
  auto add = [&](const char* field, const std::string& value) -> Status {
    if (!X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(value.c_str()),
                                    -1, -1, 0)) {
      return OpenSslError(absl::StrCat("certificate subject ", field, "=", value));
    }
    return absl::OkStatus();
  };
  for (const auto& org : request.organizations) RETURN_IF_ERROR(add("O", org));
  RETURN_IF_ERROR(add("CN", request.common_name));
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509_set_pubkey(cert.get(), key);
  X509* signer = issuer ? issuer : cert.get();
  if (ca) {
    RETURN_IF_ERROR(AddExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE"));
    RETURN_IF_ERROR(AddExtension(cert.get(), signer, NID_key_usage, "critical,digitalSignature,keyCertSign,cRLSign"));
  } else {
    RETURN_IF_ERROR(AddExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE"));
    RETURN_IF_ERROR(AddExtension(cert.get(), signer, NID_key_usage, "critical,digitalSignature,keyEncipherment"));
    std::vector<std::string> usages;
    if (request.server) usages.push_back("serverAuth");
    if (request.client) usages.push_back("clientAuth");
    if (!usages.empty()) {
      RETURN_IF_ERROR(AddExtension(cert.get(), signer, NID_ext_key_usage, absl::StrJoin(usages, ",")));
    }
    std::vector<std::string> names;
    for (const auto& dns : request.dns_names) names.push_back("DNS:" + dns);
    for (const auto& ip : request.ip_addresses) names.push_back("IP:" + ip);
    if (!names.empty()) {
      RETURN_IF_ERROR(AddExtension(cert.get(), signer, NID_subject_alt_name, absl::StrJoin(names, ",")));
    }
  }
  RETURN_IF_ERROR(AddExtension(cert.get(), signer, NID_subject_key_identifier, "hash"));
  if (issuer) RETURN_IF_ERROR(AddExtension(cert.get(), signer, NID_authority_key_identifier, "keyid:always"));
  if (!X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256())) return OpenSslError("sign a certificate");
  return cert;
}

StatusOr<KeyPtr> ReadKey(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return OpenSslError("read a private key");
  return key;
}

StatusOr<CertPtr> ReadCertificate(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  CertPtr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return OpenSslError("read a certificate");
  return cert;
}

}  // namespace

StatusOr<CertificateAuthority> CertificateAuthority::Create(const std::string& common_name) {
  ASSIGN_OR_RETURN(KeyPtr key, NewKey());
  CertificateRequest request{.common_name = common_name, .valid_days = 3650};
  ASSIGN_OR_RETURN(CertPtr cert, Build(request, key.get(), nullptr, nullptr, true));
  CertificateAuthority ca;
  ASSIGN_OR_RETURN(ca.pem_.certificate, CertificatePem(cert.get()));
  ASSIGN_OR_RETURN(ca.pem_.key, PrivateKeyPem(key.get()));
  return ca;
}

StatusOr<CertificateAuthority> CertificateAuthority::Load(const Pem& pem) {
  ASSIGN_OR_RETURN(KeyPtr key, ReadKey(pem.key));
  ASSIGN_OR_RETURN(CertPtr cert, ReadCertificate(pem.certificate));
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return absl::InvalidArgumentError("the CA's key does not match its certificate");
  }
  CertificateAuthority ca;
  ca.pem_ = pem;
  return ca;
}

StatusOr<Pem> CertificateAuthority::Issue(const CertificateRequest& request) const {
  ASSIGN_OR_RETURN(KeyPtr ca_key, ReadKey(pem_.key));
  ASSIGN_OR_RETURN(CertPtr ca_cert, ReadCertificate(pem_.certificate));
  ASSIGN_OR_RETURN(KeyPtr key, NewKey());
  ASSIGN_OR_RETURN(CertPtr cert, Build(request, key.get(), ca_cert.get(), ca_key.get(), false));
  Pem out;
  ASSIGN_OR_RETURN(out.certificate, CertificatePem(cert.get()));
  ASSIGN_OR_RETURN(out.key, PrivateKeyPem(key.get()));
  return out;
}

StatusOr<KeyPair> NewKeyPair() {
  ASSIGN_OR_RETURN(KeyPtr key, NewKey());
  KeyPair out;
  ASSIGN_OR_RETURN(out.private_key, PrivateKeyPem(key.get()));
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_PUBKEY(bio.get(), key.get())) return OpenSslError("write a public key");
  out.public_key = BioText(bio.get());
  return out;
}

}  // namespace berth::cluster
