#!/usr/bin/env node
/*
 * Test-only signer: issues small OB 3.0 credentials with a fresh did:key
 * (Ed25519) using the JavaScript VC stack, so the interop tests can check that
 * verify.mjs says "yes" to a good credential and "no" to tampered copies,
 * independently of the Python signer.
 *
 * Usage: node sign_fixture.mjs [--seed HEX64]
 * stdout: {"didKey": {credential, documents},
 *          "statusActive": {credential, documents},
 *          "statusRevoked": {credential, documents},
 *          "didWeb": {credential, documents},
 *          "issuer": "<did:key>", "revokedIndex": n, "activeIndex": n}
 * Each {credential, documents} pair is directly a verify.mjs input.
 */
import {randomBytes} from 'node:crypto';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022CryptoSuite} from
  '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {createList, createCredential as createStatusListCredential} from
  '@digitalbazaar/vc-bitstring-status-list';
import {createDocumentLoader} from './verify.mjs';

const OB_CONTEXT = 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json';
const VC_V2 = 'https://www.w3.org/ns/credentials/v2';
const STATUS_LIST_URL = 'https://status.example.test/lists/1';
const REVOKED_INDEX = 7;
const ACTIVE_INDEX = 42;

function seedFromArgs() {
  const i = process.argv.indexOf('--seed');
  if(i === -1) {
    return undefined;
  }
  const hex = process.argv[i + 1] || '';
  if(!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new Error('--seed needs 64 hex digits');
  }
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

function badge({issuer, id, credentialStatus}) {
  return {
    '@context': [VC_V2, OB_CONTEXT],
    id,
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    issuer: {id: issuer, type: ['Profile'], name: 'Interop Test Issuer'},
    validFrom: '2024-01-01T00:00:00Z',
    name: 'Interop Test Badge',
    credentialSubject: {
      id: 'did:example:learner-1',
      type: ['AchievementSubject'],
      achievement: {
        id: 'https://badges.example.test/achievements/interop',
        type: ['Achievement'],
        name: 'Interop',
        description: 'Signed in Node by the interop test fixture.',
        criteria: {narrative: 'Be signed by sign_fixture.mjs.'}
      }
    },
    ...(credentialStatus ? {credentialStatus} : {})
  };
}

async function main() {
  // one seed, used twice: first to learn the public key (and so the DID),
  // then to build the key pair whose id / controller name that DID
  const seed = seedFromArgs() ?? Uint8Array.from(randomBytes(32));
  const probe = await Ed25519Multikey.generate({seed});
  const did = `did:key:${probe.publicKeyMultibase}`;
  const keyPair = await Ed25519Multikey.generate({seed, controller: did});
  // reuse the verifier's offline loader (contexts + did:key) for signing
  const documentLoader = createDocumentLoader({});
  const sign = credential => vc.issue({
    credential,
    suite: new DataIntegrityProof({
      signer: keyPair.signer(), cryptosuite: eddsaRdfc2022CryptoSuite
    }),
    documentLoader
  });

  const plain = await sign(badge({
    issuer: did, id: 'urn:uuid:6d1bb0a8-6a1e-4bd6-9f0f-3c7a1e0d0001'
  }));

  const list = await createList({length: 131072});
  list.setStatus(REVOKED_INDEX, true);
  const statusListCredential = await sign({
    ...(await createStatusListCredential({
      id: STATUS_LIST_URL, list, statusPurpose: 'revocation'
    })),
    issuer: did,
    validFrom: '2024-01-01T00:00:00Z'
  });
  const entry = index => ({
    id: `${STATUS_LIST_URL}#${index}`,
    type: 'BitstringStatusListEntry',
    statusPurpose: 'revocation',
    statusListIndex: String(index),
    statusListCredential: STATUS_LIST_URL
  });
  const documents = {[STATUS_LIST_URL]: statusListCredential};
  const active = await sign(badge({
    issuer: did, id: 'urn:uuid:6d1bb0a8-6a1e-4bd6-9f0f-3c7a1e0d0002',
    credentialStatus: entry(ACTIVE_INDEX)
  }));
  const revoked = await sign(badge({
    issuer: did, id: 'urn:uuid:6d1bb0a8-6a1e-4bd6-9f0f-3c7a1e0d0003',
    credentialStatus: entry(REVOKED_INDEX)
  }));

  // a did:web issuer whose DID document is supplied under its HTTPS URL
  // (exercises the verifier's did:web -> https mapping)
  const webDid = 'did:web:issuer.example.test:issuers:1';
  const webKeyPair = await Ed25519Multikey.generate({
    seed: Uint8Array.from(randomBytes(32)), controller: webDid
  });
  webKeyPair.id = `${webDid}#key-1`;
  const webVm = {
    id: webKeyPair.id, type: 'Multikey', controller: webDid,
    publicKeyMultibase: webKeyPair.publicKeyMultibase
  };
  const webDidDocument = {
    '@context': ['https://www.w3.org/ns/did/v1',
      'https://w3id.org/security/multikey/v1'],
    id: webDid,
    verificationMethod: [webVm],
    assertionMethod: [webVm.id]
  };
  const didWeb = await vc.issue({
    credential: badge({
      issuer: webDid, id: 'urn:uuid:6d1bb0a8-6a1e-4bd6-9f0f-3c7a1e0d0004'
    }),
    suite: new DataIntegrityProof({
      signer: webKeyPair.signer(), cryptosuite: eddsaRdfc2022CryptoSuite
    }),
    documentLoader
  });

  process.stdout.write(JSON.stringify({
    didWeb: {
      credential: didWeb,
      documents: {
        'https://issuer.example.test/issuers/1/did.json': webDidDocument
      }
    },
    issuer: did,
    revokedIndex: REVOKED_INDEX,
    activeIndex: ACTIVE_INDEX,
    didKey: {credential: plain, documents: {}},
    statusActive: {credential: active, documents},
    statusRevoked: {credential: revoked, documents}
  }) + '\n');
}

main().catch(e => {
  process.stderr.write(`sign_fixture.mjs: ${e?.stack || e}\n`);
  process.exit(1);
});
