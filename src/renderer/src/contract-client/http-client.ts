import type { ContractClient } from '../../../shared/contract';
import { httpContractClient } from '../../../shared/http-contract-client';

/**
 * The contract over HTTP + WebSocket against `gatehouse serve`, for the console in a browser:
 * `POST <baseUrl>/api/call/<command>` with the admin token as bearer, events on `/api/events`.
 * `onAuthFailed` runs when the server rejects the token (the console then asks for it again).
 */
export function httpClient(baseUrl: string, token: string, onAuthFailed?: () => void): ContractClient {
  return httpContractClient({ baseUrl, token, onAuthFailed, createWebSocket: (url) => new WebSocket(url) });
}
