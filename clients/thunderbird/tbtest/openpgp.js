// OpenPGP helpers over Thunderbird's own modules under
// chrome://openpgp/content/modules/.

// ownOpenPGPKeyUsable reports what Thunderbird thinks of keyID (16 hex) as
// the sender's own key: keyRing getKeyById, sqliteDb
// isAcceptedAsPersonalKey, and encryption determineOwnKeyUsability for
// signing + encrypting (errorMsg is empty when the key is usable).
async function ownOpenPGPKeyUsable(keyID) {
  const { EnigmailKeyRing } = openpgp("keyRing");
  const { PgpSqliteDb2 } = openpgp("sqliteDb");
  const { EnigmailEncryption } = openpgp("encryption");
  const { EnigmailConstants } = openpgp("constants");
  const key = EnigmailKeyRing.getKeyById("0x" + keyID);
  if (!key) return { found: false };
  const personal = await PgpSqliteDb2.isAcceptedAsPersonalKey(key.fpr);
  const usable = await EnigmailEncryption.determineOwnKeyUsability(
    EnigmailConstants.SEND_SIGNED | EnigmailConstants.SEND_ENCRYPTED, "0x" + keyID, false);
  return {
    found: true, fingerprint: key.fpr, userIds: key.userIds.map(u => u.userId),
    secretAvailable: !!key.secretAvailable, personal: !!personal,
    errorMsg: usable.errorMsg || "",
  };
}

// importOpenPGPSecretKey imports an armored secret key block through
// RNP.importSecKeyBlockImpl (the key file import of the key manager), which
// re-protects it with Thunderbird's automatic passphrase, then accepts it
// as a personal key. passphrase unlocks the block ("" for none).
async function importOpenPGPSecretKey(armored, passphrase) {
  const { RNP } = openpgp("RNP");
  const { EnigmailKeyRing } = openpgp("keyRing");
  const { PgpSqliteDb2 } = openpgp("sqliteDb");
  let asked = 0;
  const passCB = (win, prompt, flags) => {
    if (asked++) { flags.canceled = true; return ""; }
    return passphrase;
  };
  const res = await RNP.importSecKeyBlockImpl(null, passCB, false, armored);
  if (!res || res.exitCode || !res.importedKeys || !res.importedKeys.length) {
    throw new Error(`secret key import failed: ${res ? res.errorMsg : "no result"}`);
  }
  EnigmailKeyRing.updateKeys(res.importedKeys);
  EnigmailKeyRing.clearCache();
  // importedKeys holds "0x" + key ID; the acceptance table wants the
  // fingerprint. PgpSqliteDb2.acceptAsPersonalKey does not await its
  // write (Thunderbird 153), so await updateAcceptance itself.
  const fprs = [];
  for (const id of res.importedKeys) {
    const key = EnigmailKeyRing.getKeyById(id);
    if (!key) throw new Error(`imported key ${id} is not in the key ring`);
    await PgpSqliteDb2.updateAcceptance(key.fpr, null, "personal");
    if (!(await PgpSqliteDb2.isAcceptedAsPersonalKey(key.fpr))) {
      throw new Error(`key ${key.fpr} not accepted as personal`);
    }
    fprs.push(key.fpr);
  }
  return fprs;
}

// importOpenPGPPublicKey imports an armored public key (a correspondent's)
// and accepts it as verified for its e-mail addresses.
async function importOpenPGPPublicKey(armored) {
  const { RNP } = openpgp("RNP");
  const { EnigmailKeyRing } = openpgp("keyRing");
  const res = await RNP.importPubkeyBlockAutoAcceptImpl(null, armored, "verified");
  if (!res || res.exitCode || !res.importedKeys || !res.importedKeys.length) {
    throw new Error(`public key import failed: ${res ? res.errorMsg : "no result"}`);
  }
  EnigmailKeyRing.updateKeys(res.importedKeys);
  EnigmailKeyRing.clearCache();
  return res.importedKeys.map(id => EnigmailKeyRing.getKeyById(id).fpr);
}
