// tbtest helpers: chrome-context JavaScript run by tbtest's Instance methods
// through Marionette (sandbox "system"). Each Go method sends this file
// followed by one call. Written against Thunderbird 153 ESR; the APIs used
// are those of its omni.ja (MessageSend.sys.mjs, MimeMessage.sys.mjs,
// MsgComposeCommands.js, enigmailMsgComposeOverlay.js, mimeEncrypt.sys.mjs).

const { MailServices } = ChromeUtils.importESModule(
  "resource:///modules/MailServices.sys.mjs"
);

const openpgp = name =>
  ChromeUtils.importESModule(`chrome://openpgp/content/modules/${name}.sys.mjs`);

// addMailAccount creates an IMAP account (never contacted: no biff, no
// login at startup) and an SMTP server, with one identity that does not
// file a copy of sent mail. It returns the keys Thunderbird assigned.
function addMailAccount(address, name, imapPort, smtpHost, smtpPort) {
  const user = address.split("@")[0];
  const inServer = MailServices.accounts.createIncomingServer(
    user, "imap.invalid", "imap");
  inServer.port = imapPort;
  inServer.doBiff = false;
  inServer.setBoolValue("login_at_startup", false);
  inServer.valid = true;

  const out = MailServices.outgoingServer.createServer("smtp");
  const smtp = out.QueryInterface(Ci.nsISmtpServer);
  smtp.hostname = smtpHost;
  smtp.port = smtpPort;
  out.socketType = Ci.nsMsgSocketType.plain;
  out.authMethod = Ci.nsMsgAuthMethod.none;
  out.description = "tbtest sink";

  const identity = MailServices.accounts.createIdentity();
  identity.fullName = name;
  identity.email = address;
  identity.doFcc = false;
  identity.smtpServerKey = out.key;
  identity.valid = true;

  const account = MailServices.accounts.createAccount();
  account.addIdentity(identity);
  account.incomingServer = inServer;
  Services.prefs.savePrefFile(null);
  return { account: account.key, identity: identity.key, smtpServer: out.key };
}

function identityFor(address) {
  const ids = MailServices.accounts.allIdentities.filter(
    i => i.email && i.email.toLowerCase() == address.toLowerCase());
  if (ids.length != 1) {
    throw new Error(`${ids.length} identities for ${address}, want 1`);
  }
  return ids[0];
}

// identityPrefs returns every preference of the identity for address
// (mail.identity.<key>.*) by short name, plus its key.
function identityPrefs(address) {
  const key = identityFor(address).key;
  const branch = Services.prefs.getBranch(`mail.identity.${key}.`);
  const prefs = { key };
  for (const name of branch.getChildList("")) {
    switch (branch.getPrefType(name)) {
      case branch.PREF_STRING: prefs[name] = branch.getStringPref(name); break;
      case branch.PREF_INT: prefs[name] = branch.getIntPref(name); break;
      case branch.PREF_BOOL: prefs[name] = branch.getBoolPref(name); break;
    }
  }
  return prefs;
}

// setIdentityAttributes sets string (setUnicharAttribute), number
// (setIntAttribute) and boolean (setBoolAttribute) identity attributes.
function setIdentityAttributes(address, attrs) {
  const id = identityFor(address);
  for (const [name, v] of Object.entries(attrs)) {
    if (typeof v == "boolean") id.setBoolAttribute(name, v);
    else if (typeof v == "number") id.setIntAttribute(name, v);
    else id.setUnicharAttribute(name, String(v));
  }
  Services.prefs.savePrefFile(null);
  return identityPrefs(address);
}

function verifyCert(certdb, cert, usage) {
  return new Promise(resolve => certdb.asyncVerifyCertAtTime(
    cert, usage, Ci.nsIX509CertDB.FLAG_LOCAL_ONLY, null,
    Math.floor(Date.now() / 1000), [],
    { verifyCertFinished: code => resolve(code) }));
}

function nssErrorName(code) {
  if (!code) return "";
  const svc = Cc["@mozilla.org/nss_errors_service;1"].getService(Ci.nsINSSErrorsService);
  try {
    return svc.getErrorMessage(svc.getXPCOMFromNSSError(code));
  } catch (e) {
    return `PR error ${code}`;
  }
}

// certByDBKey finds a certificate by its NSS db key, as Thunderbird does
// for signing_cert_dbkey, and verifies it for e-mail signing and as an
// e-mail recipient (0 = valid, else a PR error code).
async function certByDBKey(dbkey) {
  const certdb = Cc["@mozilla.org/security/x509certdb;1"].getService(Ci.nsIX509CertDB);
  const cert = certdb.findCertByDBKey(dbkey);
  if (!cert) return { found: false };
  const signer = await verifyCert(certdb, cert, Ci.nsIX509CertDB.verifyUsageEmailSigner);
  const recipient = await verifyCert(certdb, cert, Ci.nsIX509CertDB.verifyUsageEmailRecipient);
  return {
    found: true, dbKey: cert.dbKey, subject: cert.subjectName, email: cert.emailAddress,
    serial: cert.serialNumber, signer, signerError: nssErrorName(signer),
    recipient, recipientError: nssErrorName(recipient),
  };
}
