// Address book and correspondent-key helpers over Thunderbird's own APIs:
// MailServices.ab (the address books), the OpenPGP modules (keyRing,
// sqliteDb) and nsIMsgComposeSecure (S/MIME certificates by address).

// addContact adds a card to the personal address book (abook.sqlite)
// through MailServices.ab, as the address book window does, and returns
// the card's UID.
function addContact(address, name) {
  const book = MailServices.ab.getDirectory("jsaddrbook://abook.sqlite");
  if (!book) throw new Error("no personal address book jsaddrbook://abook.sqlite");
  const card = Cc["@mozilla.org/addressbook/cardproperty;1"].createInstance(Ci.nsIAbCard);
  card.displayName = name;
  card.primaryEmail = address;
  return book.addCard(card).UID;
}

// peerKeys reports what Thunderbird knows for encrypting to address: the
// OpenPGP key fpr (keyRing getKeyById, sqliteDb getAcceptance, and the
// readiness getEncryptionKeyMeta gives, which the compose window's
// auto-enable checks), and the S/MIME certificate asyncFindCertByEmailAddr
// finds (what the compose window encrypts to).
async function peerKeys(address, fpr) {
  const { EnigmailKeyRing } = openpgp("keyRing");
  const { PgpSqliteDb2 } = openpgp("sqliteDb");
  const out = { openpgpFound: false, smimeFound: false };
  if (fpr) {
    const key = EnigmailKeyRing.getKeyById("0x" + fpr);
    if (key) {
      out.openpgpFound = true;
      out.secretAvailable = !!key.secretAvailable;
      const rv = {};
      await PgpSqliteDb2.getAcceptance(key.fpr, address, rv);
      out.acceptance = rv.fingerprintAcceptance;
      out.emailDecided = rv.emailDecided;
    }
  }
  const metas = await EnigmailKeyRing.getEncryptionKeyMeta(address);
  out.readiness = metas.map(m => m.readiness);
  const cs = Cc["@mozilla.org/messengercompose/composesecure;1"]
    .createInstance(Ci.nsIMsgComposeSecure);
  const cert = await findSmimeCert(cs, address);
  if (cert) {
    out.smimeFound = true;
    out.smimeDBKey = cert.dbKey;
    out.smimeSHA256 = cert.sha256Fingerprint;
  }
  return out;
}
