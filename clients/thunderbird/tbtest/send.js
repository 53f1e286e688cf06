// sendMessage: Thunderbird's own send path (nsIMsgSend createAndSendMessage,
// i.e. MessageSend.sys.mjs + MimeMessage.sys.mjs), with the crypto set up
// the way the compose window does it at send time:
// - S/MIME (MsgComposeCommands.js): compFields.composeSecure is an
//   nsIMsgComposeSecure with requireEncryptMessage / signMessage, and each
//   recipient's certificate found with asyncFindCertByEmailAddr and cached
//   with cacheValidCertForEmail.
// - OpenPGP (enigmailMsgComposeOverlay.js prepareSecurityInfo):
//   compFields.composeSecure is EnigmailMimeEncrypt.createMimeEncrypt(...)
//   with sendFlags (SEND_PGP_MIME | SEND_SIGNED | SEND_ENCRYPTED |
//   SEND_ENCRYPT_TO_SELF), senderEmailAddr "0x<openpgp_key_id>" and the
//   recipients.

function findSmimeCert(composeSecure, email) {
  return new Promise(resolve => composeSecure.asyncFindCertByEmailAddr(email, {
    QueryInterface: ChromeUtils.generateQI(["nsIDoneFindCertForEmailCallback"]),
    findCertDone(addr, cert) { resolve(cert); },
  }));
}

async function smimeComposeSecure(m, recipients) {
  const cs = Cc["@mozilla.org/messengercompose/composesecure;1"]
    .createInstance(Ci.nsIMsgComposeSecure);
  cs.signMessage = m.sign;
  cs.requireEncryptMessage = m.encrypt;
  if (m.encrypt) {
    for (const email of recipients) {
      const cert = await findSmimeCert(cs, email);
      if (!cert) throw new Error(`no valid S/MIME certificate for recipient ${email}`);
      cs.cacheValidCertForEmail(email, cert.dbKey);
    }
  }
  return cs;
}

// composeDefaults is what a new compose window selects for identity
// (adjustEncryptAfterIdentityChange and updateEncryptionDependencies in
// MsgComposeCommands.js): the technology, whether to encrypt, to sign, and
// to protect the subject.
function composeDefaults(identity) {
  const smime = !!(identity.getUnicharAttribute("signing_cert_name") ||
    identity.getUnicharAttribute("encryption_cert_name"));
  const pgp = !!identity.getUnicharAttribute("openpgp_key_id");
  let tech = "";
  if (pgp && smime) tech = identity.getIntAttribute("e2etechpref") == 1 ? "smime" : "openpgp";
  else if (pgp) tech = "openpgp";
  else if (smime) tech = "smime";
  const autoEnable = Services.prefs.getBoolPref("mail.e2ee.auto_enable", false);
  const encrypt = !autoEnable && (pgp || smime) && identity.encryptionPolicy > 0;
  const canSign = tech == "openpgp" ? pgp : !!identity.getUnicharAttribute("signing_cert_name");
  const sign = canSign && (encrypt || identity.signMail);
  return { tech, encrypt, sign, protectSubject: encrypt && identity.protectSubject };
}

// autoEnable mirrors checkEncryptionState in MsgComposeCommands.js: with
// mail.e2ee.auto_enable on and encryption not yet chosen, encryption turns
// on when every recipient has a usable S/MIME certificate
// (asyncFindCertByEmailAddr; mustCheckRecipientCerts needs
// encryption_cert_name) or an accepted OpenPGP key (checkRecipientKeys:
// getEncryptionKeyMeta readiness "accepted" or "alias"; needs
// openpgp_key_id). When only one technology can, it is selected; then
// updateEncryptionDependencies signs whenever the selected technology can
// sign, and protects the subject as the identity says.
async function autoEnable(identity, d, recipients) {
  if (d.encrypt || !recipients.length ||
      !Services.prefs.getBoolPref("mail.e2ee.auto_enable", false)) {
    return d;
  }
  let canSMIME = !!identity.getUnicharAttribute("encryption_cert_name");
  if (canSMIME) {
    const cs = Cc["@mozilla.org/messengercompose/composesecure;1"]
      .createInstance(Ci.nsIMsgComposeSecure);
    for (const email of recipients) {
      if (!(await findSmimeCert(cs, email))) canSMIME = false;
    }
  }
  let canPGP = !!identity.getUnicharAttribute("openpgp_key_id");
  if (canPGP) {
    const { EnigmailKeyRing } = openpgp("keyRing");
    for (const email of recipients) {
      const metas = await EnigmailKeyRing.getEncryptionKeyMeta(email);
      if (!metas.some(k => k.readiness == "accepted" || k.readiness == "alias")) canPGP = false;
    }
  }
  if (!canSMIME && !canPGP) return d;
  let tech = d.tech;
  if (!canSMIME) tech = "openpgp";
  else if (!canPGP) tech = "smime";
  const canSign = tech == "openpgp" ? !!identity.getUnicharAttribute("openpgp_key_id")
    : !!identity.getUnicharAttribute("signing_cert_name");
  return { tech, encrypt: true, sign: canSign, protectSubject: identity.protectSubject };
}

function openpgpComposeSecure(m, identity, compFields, recipients) {
  const { EnigmailConstants } = openpgp("constants");
  const { EnigmailMimeEncrypt } = openpgp("mimeEncrypt");
  const keyId = identity.getUnicharAttribute("openpgp_key_id");
  if (!keyId) throw new Error(`identity ${identity.email} has no openpgp_key_id`);
  let flags = EnigmailConstants.SEND_PGP_MIME;
  if (m.sign) flags |= EnigmailConstants.SEND_SIGNED;
  if (m.encrypt) flags |= EnigmailConstants.SEND_ENCRYPTED | EnigmailConstants.SEND_ENCRYPT_TO_SELF;
  if (m.encrypt && m.sign && Services.prefs.getBoolPref("mail.openpgp.separate_mime_layers")) {
    flags |= EnigmailConstants.SEND_TWO_MIME_LAYERS;
  }
  if (m.encrypt && m.protectSubject) flags |= EnigmailConstants.ENCRYPT_SUBJECT;
  const cs = EnigmailMimeEncrypt.createMimeEncrypt(null);
  const si = cs.wrappedJSObject;
  si.signMessage = m.sign;
  si.requireEncryptMessage = m.encrypt;
  if (m.sign && !m.encrypt) si.signFormat = "multipart";
  si.sendFlags = flags;
  si.UIFlags = EnigmailConstants.UI_PGP_MIME;
  si.senderEmailAddr = "0x" + keyId;
  si.recipients = recipients.join(", ");
  si.bccRecipients = "";
  si.originalSubject = compFields.subject;
  if (flags & EnigmailConstants.ENCRYPT_SUBJECT) compFields.subject = "";
  if (m.sign && !m.encrypt) compFields.forceMsgEncoding = true;
  return cs;
}

// sendMessage sends m ({from, to, subject, body, sign, encrypt, tech,
// auto}) and resolves with {messageId, sign, encrypt, tech} when the send
// listener reports success. With auto, sign/encrypt/tech are what a new
// compose window would choose from the identity's settings.
async function sendMessage(m) {
  const identity = identityFor(m.from);
  m = Object.assign({}, m, { protectSubject: false });
  if (m.auto) {
    Object.assign(m, composeDefaults(identity));
    Object.assign(m, await autoEnable(identity, m, m.to));
  }
  const compFields = Cc["@mozilla.org/messengercompose/composefields;1"]
    .createInstance(Ci.nsIMsgCompFields);
  compFields.from = MailServices.headerParser.makeMimeHeader(
    [{ name: identity.fullName, email: identity.email }]);
  compFields.to = m.to.join(", ");
  compFields.subject = m.subject;
  compFields.body = m.body;
  compFields.forcePlainText = true;
  compFields.useMultipartAlternative = false;
  if (m.sign || m.encrypt) {
    if (m.tech == "smime") {
      compFields.composeSecure = await smimeComposeSecure(m, m.to);
    } else if (m.tech == "openpgp") {
      compFields.composeSecure = openpgpComposeSecure(m, identity, compFields, m.to);
    } else {
      throw new Error(`unknown crypto technology ${JSON.stringify(m.tech)}`);
    }
  }

  const { promise, resolve, reject } = Promise.withResolvers();
  const listener = {
    QueryInterface: ChromeUtils.generateQI(["nsIMsgSendListener"]),
    onStartSending() {},
    onProgress() {},
    onStatus() {},
    onGetDraftFolderURI() {},
    onSendNotPerformed(msgId, status) {
      reject(new Error(`send not performed: status 0x${(status >>> 0).toString(16)}`));
    },
    onTransportSecurityError(msgId, status) {
      reject(new Error(`transport security error 0x${(status >>> 0).toString(16)}`));
    },
    onStopSending(msgId, status) {
      if (Components.isSuccessCode(status)) {
        resolve({ messageId: msgId || "", sign: m.sign, encrypt: m.encrypt, tech: m.tech });
      }
      else reject(new Error(`send failed: status 0x${(status >>> 0).toString(16)}`));
    },
  };
  const send = Cc["@mozilla.org/messengercompose/send;1"].createInstance(Ci.nsIMsgSend);
  const started = send.createAndSendMessage(
    null, identity, "", compFields, false, false, Ci.nsIMsgSend.nsMsgDeliverNow,
    null, "text/plain", m.body, null, null, listener, null, null,
    Ci.nsIMsgCompType.New);
  // createAndSendMessage rejects when the message cannot be built (for
  // example a crypto failure); the listener may not hear of it.
  Promise.resolve(started).catch(reject);
  return promise;
}
