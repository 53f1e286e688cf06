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

function openpgpComposeSecure(m, identity, compFields, recipients) {
  const { EnigmailConstants } = openpgp("constants");
  const { EnigmailMimeEncrypt } = openpgp("mimeEncrypt");
  const keyId = identity.getUnicharAttribute("openpgp_key_id");
  if (!keyId) throw new Error(`identity ${identity.email} has no openpgp_key_id`);
  let flags = EnigmailConstants.SEND_PGP_MIME;
  if (m.sign) flags |= EnigmailConstants.SEND_SIGNED;
  if (m.encrypt) flags |= EnigmailConstants.SEND_ENCRYPTED | EnigmailConstants.SEND_ENCRYPT_TO_SELF;
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
  if (m.sign && !m.encrypt) compFields.forceMsgEncoding = true;
  return cs;
}

// sendMessage sends m ({from, to, subject, body, sign, encrypt, tech}) and
// resolves with {messageId} when the send listener reports success.
async function sendMessage(m) {
  const identity = identityFor(m.from);
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
      if (Components.isSuccessCode(status)) resolve({ messageId: msgId || "" });
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
