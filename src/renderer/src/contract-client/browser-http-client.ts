import type { ContractClient } from '../../../shared/contract';
import { httpContractClient } from '../../../shared/http-contract-client';

/** The contract over HTTP + WebSocket against `gatehouse serve`, from a browser. */
export function browserHttpClient(baseUrl: string, token: string, onAuthFailed: () => void): ContractClient {
  return httpContractClient({ baseUrl, token, onAuthFailed, createWebSocket: (url) => new WebSocket(url) });
}
