import type {
  GatewayClientToServer,
  GatewayServerToClient,
  StaffClientToServer,
  StaffServerToClient,
} from '@nattevakt/protocol/socket-events';
import type { Namespace, Socket } from 'socket.io';
import type { SessionUser } from '../auth/auth-service.js';

export interface GatewaySocketData {
  siteId: string;
}
export type GatewayNamespace = Namespace<GatewayClientToServer, GatewayServerToClient, Record<string, never>, GatewaySocketData>;
export type GatewaySocket = Socket<GatewayClientToServer, GatewayServerToClient, Record<string, never>, GatewaySocketData>;
export interface StaffSocketData {
  user: SessionUser;
}
export type StaffNamespace = Namespace<StaffClientToServer, StaffServerToClient, Record<string, never>, StaffSocketData>;
