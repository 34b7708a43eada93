/** A TokenService wired to the fake provider, in-memory secret storage and state, and a test clock. */
import { AuditEvent, formatAuditEvent } from '../../src/extension/audit';
import { TokenCache } from '../../src/extension/auth/tokenCache';
import { AuthSettings, SignInRequest, TokenService } from '../../src/extension/auth/tokenService';
import { CLOUDS } from '../../src/shared/clouds';
import { FakeProvider, MemorySecrets, MemoryState } from './fakeProvider';
import { recordVisible } from './leakWatch';

export function setupTokenService(overrides: Partial<AuthSettings> = {}) {
  const provider = new FakeProvider();
  const secrets = new MemorySecrets();
  const state = new MemoryState();
  const audit: AuditEvent[] = [];
  const prompts: SignInRequest[] = [];
  let confirmAnswer = true;
  let clock = Date.now();
  const settings: { -readonly [K in keyof AuthSettings]: AuthSettings[K] } = { cloud: CLOUDS.AzureCloud, tenant: 'organizations', promptForSignIn: true, ...overrides };
  const make = () => new TokenService({
    getSession: provider.getSession,
    cache: new TokenCache(secrets, detail => recordVisible('log', detail)),
    state,
    settings: () => settings,
    confirmSignIn: async request => { prompts.push(request); recordVisible('sign-in prompt', JSON.stringify(request)); return confirmAnswer; },
    audit: event => { audit.push(event); recordVisible('audit', formatAuditEvent(event)); },
    now: () => clock,
  });
  return {
    provider, secrets, state, audit, prompts, settings, service: make(), make,
    advance: (ms: number) => { clock += ms; },
    answerPrompt: (answer: boolean) => { confirmAnswer = answer; },
  };
}

