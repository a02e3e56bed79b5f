// Naming: `X` is the flavour a client handles — decoded `__Output` for responses and every other
// message, permissive input for `...Request`s; the other flavour is `XInput` / `XRequestOutput`.
//
// Type-only view of proto/generated/ (created by proto/generate.ts; run `npm run gen:proto`).
// Decoded (Output) objects follow proto/loader.ts LOADER_OPTIONS: wire (snake_case) field names,
// uint64 as number, enums as their string names, absent scalars as 0/''/false, absent
// sub-messages as null, absent repeated fields as []; proto3 `optional` fields and oneof members
// are left out when unset (typed `?:`), and each oneof has a virtual property naming the member
// that is set (e.g. `mode_state?: 'power_target_mode_state' | 'hashrate_target_mode_state'`).
// Input objects accept enum names or numbers and 64-bit values as number | string | Long.
// Enum aliases (e.g. `MinerStatus`) are unions of the value names.
// Pitfall: google.protobuf.Struct/Value come from protobufjs's bundled definitions, whose field
// names are camelCase (`numberValue`, `structValue`, ...), unlike the snake_case API fields.
import type * as grpc from '@grpc/grpc-js';

import type {
  ActionsServiceClient,
  ActionsServiceDefinition,
} from './generated/braiins/bos/v1/ActionsService.ts';
import type {
  AdvancedSettingsServiceClient,
  AdvancedSettingsServiceDefinition,
} from './generated/braiins/bos/v1/AdvancedSettingsService.ts';
import type {
  AuthenticationServiceClient,
  AuthenticationServiceDefinition,
} from './generated/braiins/bos/v1/AuthenticationService.ts';
import type {
  ConfigurationServiceClient,
  ConfigurationServiceDefinition,
} from './generated/braiins/bos/v1/ConfigurationService.ts';
import type {
  CoolingServiceClient,
  CoolingServiceDefinition,
} from './generated/braiins/bos/v1/CoolingService.ts';
import type {
  LicenseServiceClient,
  LicenseServiceDefinition,
} from './generated/braiins/bos/v1/LicenseService.ts';
import type { MinerServiceClient, MinerServiceDefinition } from './generated/braiins/bos/v1/MinerService.ts';
import type {
  NetworkServiceClient,
  NetworkServiceDefinition,
} from './generated/braiins/bos/v1/NetworkService.ts';
import type {
  PerformanceServiceClient,
  PerformanceServiceDefinition,
} from './generated/braiins/bos/v1/PerformanceService.ts';
import type { PoolServiceClient, PoolServiceDefinition } from './generated/braiins/bos/v1/PoolService.ts';
import type {
  UpgradeServiceClient,
  UpgradeServiceDefinition,
} from './generated/braiins/bos/v1/UpgradeService.ts';
import type {
  ApiVersionServiceClient,
  ApiVersionServiceDefinition,
} from './generated/braiins/bos/ApiVersionService.ts';

/**
 * A service's client constructor with typed methods (`new MinerService(addr, creds).GetMinerStats(...)`)
 * and typed `.service` definition; still usable wherever a grpc.ServiceClientConstructor is expected.
 */
export type BosServiceConstructor<Client extends grpc.Client, Definition extends grpc.ServiceDefinition> = {
  new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ClientOptions): Client;
  service: Definition;
  serviceName: string;
} & grpc.ServiceClientConstructor;

/** The 12 services of the API by short name, as returned by bosServices() in proto/loader.ts. */
export interface BosServices {
  ApiVersionService: BosServiceConstructor<ApiVersionServiceClient, ApiVersionServiceDefinition>;
  AuthenticationService: BosServiceConstructor<AuthenticationServiceClient, AuthenticationServiceDefinition>;
  MinerService: BosServiceConstructor<MinerServiceClient, MinerServiceDefinition>;
  CoolingService: BosServiceConstructor<CoolingServiceClient, CoolingServiceDefinition>;
  PerformanceService: BosServiceConstructor<PerformanceServiceClient, PerformanceServiceDefinition>;
  PoolService: BosServiceConstructor<PoolServiceClient, PoolServiceDefinition>;
  ActionsService: BosServiceConstructor<ActionsServiceClient, ActionsServiceDefinition>;
  ConfigurationService: BosServiceConstructor<ConfigurationServiceClient, ConfigurationServiceDefinition>;
  NetworkService: BosServiceConstructor<NetworkServiceClient, NetworkServiceDefinition>;
  UpgradeService: BosServiceConstructor<UpgradeServiceClient, UpgradeServiceDefinition>;
  LicenseService: BosServiceConstructor<LicenseServiceClient, LicenseServiceDefinition>;
  AdvancedSettingsService: BosServiceConstructor<
    AdvancedSettingsServiceClient,
    AdvancedSettingsServiceDefinition
  >;
}

export type BosServiceName = keyof BosServices;

// Well-known types used by the API.
export type {
  Timestamp__Output as Timestamp,
  Timestamp as TimestampInput,
} from './generated/google/protobuf/Timestamp.ts';
export type {
  UInt32Value__Output as UInt32Value,
  UInt32Value as UInt32ValueInput,
} from './generated/google/protobuf/UInt32Value.ts';
export type { Struct__Output as Struct, Struct as StructInput } from './generated/google/protobuf/Struct.ts';
export type {
  Value__Output as StructValue,
  Value as StructValueInput,
} from './generated/google/protobuf/Value.ts';

// bos/version.proto
export type {
  ApiVersion__Output as ApiVersion,
  ApiVersion as ApiVersionInput,
} from './generated/braiins/bos/ApiVersion.ts';
export type {
  ApiVersionServiceClient,
  ApiVersionServiceDefinition,
  ApiVersionServiceHandlers,
} from './generated/braiins/bos/ApiVersionService.ts';

// bos/v1/actions.proto
export type {
  StartResponse__Output as StartResponse,
  StartResponse as StartResponseInput,
} from './generated/braiins/bos/v1/StartResponse.ts';
export type {
  RestartResponse__Output as RestartResponse,
  RestartResponse as RestartResponseInput,
} from './generated/braiins/bos/v1/RestartResponse.ts';
export type {
  StopResponse__Output as StopResponse,
  StopResponse as StopResponseInput,
} from './generated/braiins/bos/v1/StopResponse.ts';
export type {
  PauseMiningResponse__Output as PauseMiningResponse,
  PauseMiningResponse as PauseMiningResponseInput,
} from './generated/braiins/bos/v1/PauseMiningResponse.ts';
export type {
  ResumeMiningResponse__Output as ResumeMiningResponse,
  ResumeMiningResponse as ResumeMiningResponseInput,
} from './generated/braiins/bos/v1/ResumeMiningResponse.ts';
export type {
  SetLocateDeviceStatusRequest,
  SetLocateDeviceStatusRequest__Output as SetLocateDeviceStatusRequestOutput,
} from './generated/braiins/bos/v1/SetLocateDeviceStatusRequest.ts';
export type {
  LocateDeviceStatusResponse__Output as LocateDeviceStatusResponse,
  LocateDeviceStatusResponse as LocateDeviceStatusResponseInput,
} from './generated/braiins/bos/v1/LocateDeviceStatusResponse.ts';
export type {
  ActionsServiceClient,
  ActionsServiceDefinition,
  ActionsServiceHandlers,
} from './generated/braiins/bos/v1/ActionsService.ts';

// bos/v1/advanced_settings.proto
export type {
  GetSettingsSchemaResponse__Output as GetSettingsSchemaResponse,
  GetSettingsSchemaResponse as GetSettingsSchemaResponseInput,
} from './generated/braiins/bos/v1/GetSettingsSchemaResponse.ts';
export type {
  GetSettingsRequest,
  GetSettingsRequest__Output as GetSettingsRequestOutput,
} from './generated/braiins/bos/v1/GetSettingsRequest.ts';
export type {
  GetSettingsResponse__Output as GetSettingsResponse,
  GetSettingsResponse as GetSettingsResponseInput,
} from './generated/braiins/bos/v1/GetSettingsResponse.ts';
export type {
  SetSettingsRequest,
  SetSettingsRequest__Output as SetSettingsRequestOutput,
} from './generated/braiins/bos/v1/SetSettingsRequest.ts';
export type {
  SetSettingsResponse__Output as SetSettingsResponse,
  SetSettingsResponse as SetSettingsResponseInput,
} from './generated/braiins/bos/v1/SetSettingsResponse.ts';
export type {
  ResetAllSettingsResponse__Output as ResetAllSettingsResponse,
  ResetAllSettingsResponse as ResetAllSettingsResponseInput,
} from './generated/braiins/bos/v1/ResetAllSettingsResponse.ts';
export type {
  AdvancedSettingsServiceClient,
  AdvancedSettingsServiceDefinition,
  AdvancedSettingsServiceHandlers,
} from './generated/braiins/bos/v1/AdvancedSettingsService.ts';

// bos/v1/authentication.proto
export type {
  LoginRequest,
  LoginRequest__Output as LoginRequestOutput,
} from './generated/braiins/bos/v1/LoginRequest.ts';
export type {
  LoginResponse__Output as LoginResponse,
  LoginResponse as LoginResponseInput,
} from './generated/braiins/bos/v1/LoginResponse.ts';
export type {
  SetPasswordRequest,
  SetPasswordRequest__Output as SetPasswordRequestOutput,
} from './generated/braiins/bos/v1/SetPasswordRequest.ts';
export type {
  AuthenticationServiceClient,
  AuthenticationServiceDefinition,
  AuthenticationServiceHandlers,
} from './generated/braiins/bos/v1/AuthenticationService.ts';

// bos/v1/common.proto
export type { SaveAction__Output as SaveAction } from './generated/braiins/bos/v1/SaveAction.ts';

// bos/v1/configuration.proto
export type {
  GetMinerConfigurationResponse__Output as GetMinerConfigurationResponse,
  GetMinerConfigurationResponse as GetMinerConfigurationResponseInput,
} from './generated/braiins/bos/v1/GetMinerConfigurationResponse.ts';
export type {
  GetConstraintsResponse__Output as GetConstraintsResponse,
  GetConstraintsResponse as GetConstraintsResponseInput,
} from './generated/braiins/bos/v1/GetConstraintsResponse.ts';
export type {
  ConfigurationServiceClient,
  ConfigurationServiceDefinition,
  ConfigurationServiceHandlers,
} from './generated/braiins/bos/v1/ConfigurationService.ts';

// bos/v1/constraints.proto
export type {
  UInt32Constraints__Output as UInt32Constraints,
  UInt32Constraints as UInt32ConstraintsInput,
} from './generated/braiins/bos/v1/UInt32Constraints.ts';
export type {
  DoubleConstraints__Output as DoubleConstraints,
  DoubleConstraints as DoubleConstraintsInput,
} from './generated/braiins/bos/v1/DoubleConstraints.ts';
export type {
  PowerConstraints__Output as PowerConstraints,
  PowerConstraints as PowerConstraintsInput,
} from './generated/braiins/bos/v1/PowerConstraints.ts';
export type {
  HashrateConstraints__Output as HashrateConstraints,
  HashrateConstraints as HashrateConstraintsInput,
} from './generated/braiins/bos/v1/HashrateConstraints.ts';
export type {
  TemperatureConstraints__Output as TemperatureConstraints,
  TemperatureConstraints as TemperatureConstraintsInput,
} from './generated/braiins/bos/v1/TemperatureConstraints.ts';
export type {
  BooleanConstraint__Output as BooleanConstraint,
  BooleanConstraint as BooleanConstraintInput,
} from './generated/braiins/bos/v1/BooleanConstraint.ts';
export type {
  DurationConstraints__Output as DurationConstraints,
  DurationConstraints as DurationConstraintsInput,
} from './generated/braiins/bos/v1/DurationConstraints.ts';
export type {
  FrequencyConstraints__Output as FrequencyConstraints,
  FrequencyConstraints as FrequencyConstraintsInput,
} from './generated/braiins/bos/v1/FrequencyConstraints.ts';
export type {
  VoltageConstraints__Output as VoltageConstraints,
  VoltageConstraints as VoltageConstraintsInput,
} from './generated/braiins/bos/v1/VoltageConstraints.ts';

// bos/v1/cooling.proto
export type { CoolingMode__Output as CoolingMode } from './generated/braiins/bos/v1/CoolingMode.ts';
export type { FanPauseMode__Output as FanPauseMode } from './generated/braiins/bos/v1/FanPauseMode.ts';
export type { FanPauseRuntime__Output as FanPauseRuntime } from './generated/braiins/bos/v1/FanPauseRuntime.ts';
export type { SensorLocation__Output as SensorLocation } from './generated/braiins/bos/v1/SensorLocation.ts';
export type {
  PauseMode__Output as PauseMode,
  PauseMode as PauseModeInput,
} from './generated/braiins/bos/v1/PauseMode.ts';
export type {
  ManualPauseMode__Output as ManualPauseMode,
  ManualPauseMode as ManualPauseModeInput,
} from './generated/braiins/bos/v1/ManualPauseMode.ts';
export type {
  CoolingAutoMode__Output as CoolingAutoMode,
  CoolingAutoMode as CoolingAutoModeInput,
} from './generated/braiins/bos/v1/CoolingAutoMode.ts';
export type {
  CoolingManualMode__Output as CoolingManualMode,
  CoolingManualMode as CoolingManualModeInput,
} from './generated/braiins/bos/v1/CoolingManualMode.ts';
export type {
  CoolingDisabledMode__Output as CoolingDisabledMode,
  CoolingDisabledMode as CoolingDisabledModeInput,
} from './generated/braiins/bos/v1/CoolingDisabledMode.ts';
export type {
  CoolingImmersionMode__Output as CoolingImmersionMode,
  CoolingImmersionMode as CoolingImmersionModeInput,
} from './generated/braiins/bos/v1/CoolingImmersionMode.ts';
export type {
  CoolingHydroMode__Output as CoolingHydroMode,
  CoolingHydroMode as CoolingHydroModeInput,
} from './generated/braiins/bos/v1/CoolingHydroMode.ts';
export type {
  CoolingConfiguration__Output as CoolingConfiguration,
  CoolingConfiguration as CoolingConfigurationInput,
} from './generated/braiins/bos/v1/CoolingConfiguration.ts';
export type {
  CoolingConstraints__Output as CoolingConstraints,
  CoolingConstraints as CoolingConstraintsInput,
} from './generated/braiins/bos/v1/CoolingConstraints.ts';
export type {
  FanState__Output as FanState,
  FanState as FanStateInput,
} from './generated/braiins/bos/v1/FanState.ts';
export type {
  TemperatureSensor__Output as TemperatureSensor,
  TemperatureSensor as TemperatureSensorInput,
} from './generated/braiins/bos/v1/TemperatureSensor.ts';
export type {
  GetCoolingStateResponse__Output as GetCoolingStateResponse,
  GetCoolingStateResponse as GetCoolingStateResponseInput,
} from './generated/braiins/bos/v1/GetCoolingStateResponse.ts';
export type {
  SetImmersionModeRequest,
  SetImmersionModeRequest__Output as SetImmersionModeRequestOutput,
} from './generated/braiins/bos/v1/SetImmersionModeRequest.ts';
export type {
  SetImmersionModeResponse__Output as SetImmersionModeResponse,
  SetImmersionModeResponse as SetImmersionModeResponseInput,
} from './generated/braiins/bos/v1/SetImmersionModeResponse.ts';
export type {
  SetCoolingModeRequest,
  SetCoolingModeRequest__Output as SetCoolingModeRequestOutput,
} from './generated/braiins/bos/v1/SetCoolingModeRequest.ts';
export type {
  SetCoolingModeResponse__Output as SetCoolingModeResponse,
  SetCoolingModeResponse as SetCoolingModeResponseInput,
} from './generated/braiins/bos/v1/SetCoolingModeResponse.ts';
export type {
  CoolingServiceClient,
  CoolingServiceDefinition,
  CoolingServiceHandlers,
} from './generated/braiins/bos/v1/CoolingService.ts';

// bos/v1/license.proto
export type { LicenseType__Output as LicenseType } from './generated/braiins/bos/v1/LicenseType.ts';
export type {
  NoneLicense__Output as NoneLicense,
  NoneLicense as NoneLicenseInput,
} from './generated/braiins/bos/v1/NoneLicense.ts';
export type {
  ValidLicense__Output as ValidLicense,
  ValidLicense as ValidLicenseInput,
} from './generated/braiins/bos/v1/ValidLicense.ts';
export type {
  ExpiredLicense__Output as ExpiredLicense,
  ExpiredLicense as ExpiredLicenseInput,
} from './generated/braiins/bos/v1/ExpiredLicense.ts';
export type {
  GetLicenseStateResponse__Output as GetLicenseStateResponse,
  GetLicenseStateResponse as GetLicenseStateResponseInput,
} from './generated/braiins/bos/v1/GetLicenseStateResponse.ts';
export type {
  ApplyContractKeyRequest,
  ApplyContractKeyRequest__Output as ApplyContractKeyRequestOutput,
} from './generated/braiins/bos/v1/ApplyContractKeyRequest.ts';
export type {
  ApplyContractKeyResponse__Output as ApplyContractKeyResponse,
  ApplyContractKeyResponse as ApplyContractKeyResponseInput,
} from './generated/braiins/bos/v1/ApplyContractKeyResponse.ts';
export type {
  LicenseServiceClient,
  LicenseServiceDefinition,
  LicenseServiceHandlers,
} from './generated/braiins/bos/v1/LicenseService.ts';

// bos/v1/miner.proto
export type { Platform__Output as Platform } from './generated/braiins/bos/v1/Platform.ts';
export type { ControlBoardSocFamily__Output as ControlBoardSocFamily } from './generated/braiins/bos/v1/ControlBoardSocFamily.ts';
export type { BosMode__Output as BosMode } from './generated/braiins/bos/v1/BosMode.ts';
export type { MinerBrand__Output as MinerBrand } from './generated/braiins/bos/v1/MinerBrand.ts';
export type { MinerModel__Output as MinerModel } from './generated/braiins/bos/v1/MinerModel.ts';
export type { MinerStatus__Output as MinerStatus } from './generated/braiins/bos/v1/MinerStatus.ts';
export type { SupportArchiveFormat__Output as SupportArchiveFormat } from './generated/braiins/bos/v1/SupportArchiveFormat.ts';
export type { LogType__Output as LogType } from './generated/braiins/bos/v1/LogType.ts';
export type {
  MinerIdentity__Output as MinerIdentity,
  MinerIdentity as MinerIdentityInput,
} from './generated/braiins/bos/v1/MinerIdentity.ts';
export type {
  BosVersion__Output as BosVersion,
  BosVersion as BosVersionInput,
} from './generated/braiins/bos/v1/BosVersion.ts';
export type {
  ErrorCode__Output as ErrorCode,
  ErrorCode as ErrorCodeInput,
} from './generated/braiins/bos/v1/ErrorCode.ts';
export type {
  Component__Output as Component,
  Component as ComponentInput,
} from './generated/braiins/bos/v1/Component.ts';
export type {
  MinerError__Output as MinerError,
  MinerError as MinerErrorInput,
} from './generated/braiins/bos/v1/MinerError.ts';
export type {
  GetMinerStatusResponse__Output as GetMinerStatusResponse,
  GetMinerStatusResponse as GetMinerStatusResponseInput,
} from './generated/braiins/bos/v1/GetMinerStatusResponse.ts';
export type {
  PsuInfo__Output as PsuInfo,
  PsuInfo as PsuInfoInput,
} from './generated/braiins/bos/v1/PsuInfo.ts';
export type {
  GetMinerDetailsResponse__Output as GetMinerDetailsResponse,
  GetMinerDetailsResponse as GetMinerDetailsResponseInput,
} from './generated/braiins/bos/v1/GetMinerDetailsResponse.ts';
export type {
  MinerPowerStats__Output as MinerPowerStats,
  MinerPowerStats as MinerPowerStatsInput,
} from './generated/braiins/bos/v1/MinerPowerStats.ts';
export type {
  GetMinerStatsResponse__Output as GetMinerStatsResponse,
  GetMinerStatsResponse as GetMinerStatsResponseInput,
} from './generated/braiins/bos/v1/GetMinerStatsResponse.ts';
export type {
  GetErrorsResponse__Output as GetErrorsResponse,
  GetErrorsResponse as GetErrorsResponseInput,
} from './generated/braiins/bos/v1/GetErrorsResponse.ts';
export type {
  Hashboard__Output as Hashboard,
  Hashboard as HashboardInput,
} from './generated/braiins/bos/v1/Hashboard.ts';
export type {
  GetSupportArchiveRequest,
  GetSupportArchiveRequest__Output as GetSupportArchiveRequestOutput,
} from './generated/braiins/bos/v1/GetSupportArchiveRequest.ts';
export type {
  GetSupportArchiveResponse__Output as GetSupportArchiveResponse,
  GetSupportArchiveResponse as GetSupportArchiveResponseInput,
} from './generated/braiins/bos/v1/GetSupportArchiveResponse.ts';
export type {
  GetLogRequest,
  GetLogRequest__Output as GetLogRequestOutput,
} from './generated/braiins/bos/v1/GetLogRequest.ts';
export type {
  GetLogResponse__Output as GetLogResponse,
  GetLogResponse as GetLogResponseInput,
} from './generated/braiins/bos/v1/GetLogResponse.ts';
export type {
  GetHashboardsResponse__Output as GetHashboardsResponse,
  GetHashboardsResponse as GetHashboardsResponseInput,
} from './generated/braiins/bos/v1/GetHashboardsResponse.ts';
export type {
  EnableHashboardsRequest,
  EnableHashboardsRequest__Output as EnableHashboardsRequestOutput,
} from './generated/braiins/bos/v1/EnableHashboardsRequest.ts';
export type {
  EnableHashboardsResponse__Output as EnableHashboardsResponse,
  EnableHashboardsResponse as EnableHashboardsResponseInput,
} from './generated/braiins/bos/v1/EnableHashboardsResponse.ts';
export type {
  DisableHashboardsRequest,
  DisableHashboardsRequest__Output as DisableHashboardsRequestOutput,
} from './generated/braiins/bos/v1/DisableHashboardsRequest.ts';
export type {
  DisableHashboardsResponse__Output as DisableHashboardsResponse,
  DisableHashboardsResponse as DisableHashboardsResponseInput,
} from './generated/braiins/bos/v1/DisableHashboardsResponse.ts';
export type {
  HashboardEnableState__Output as HashboardEnableState,
  HashboardEnableState as HashboardEnableStateInput,
} from './generated/braiins/bos/v1/HashboardEnableState.ts';
export type {
  MinerServiceClient,
  MinerServiceDefinition,
  MinerServiceHandlers,
} from './generated/braiins/bos/v1/MinerService.ts';

// bos/v1/network.proto
export type { NetworkProtocol__Output as NetworkProtocol } from './generated/braiins/bos/v1/NetworkProtocol.ts';
export type {
  GetNetworkConfigurationResponse__Output as GetNetworkConfigurationResponse,
  GetNetworkConfigurationResponse as GetNetworkConfigurationResponseInput,
} from './generated/braiins/bos/v1/GetNetworkConfigurationResponse.ts';
export type {
  SetNetworkConfigurationRequest,
  SetNetworkConfigurationRequest__Output as SetNetworkConfigurationRequestOutput,
} from './generated/braiins/bos/v1/SetNetworkConfigurationRequest.ts';
export type {
  SetNetworkConfigurationResponse__Output as SetNetworkConfigurationResponse,
  SetNetworkConfigurationResponse as SetNetworkConfigurationResponseInput,
} from './generated/braiins/bos/v1/SetNetworkConfigurationResponse.ts';
export type {
  NetworkConfiguration__Output as NetworkConfiguration,
  NetworkConfiguration as NetworkConfigurationInput,
} from './generated/braiins/bos/v1/NetworkConfiguration.ts';
export type { Static__Output as Static, Static as StaticInput } from './generated/braiins/bos/v1/Static.ts';
export type {
  GetNetworkInfoResponse__Output as GetNetworkInfoResponse,
  GetNetworkInfoResponse as GetNetworkInfoResponseInput,
} from './generated/braiins/bos/v1/GetNetworkInfoResponse.ts';
export type {
  IpNetwork__Output as IpNetwork,
  IpNetwork as IpNetworkInput,
} from './generated/braiins/bos/v1/IpNetwork.ts';
export type {
  NetworkServiceClient,
  NetworkServiceDefinition,
  NetworkServiceHandlers,
} from './generated/braiins/bos/v1/NetworkService.ts';

// bos/v1/performance.proto
export type { TunerMode__Output as TunerMode } from './generated/braiins/bos/v1/TunerMode.ts';
export type { DPSMode__Output as DPSMode } from './generated/braiins/bos/v1/DPSMode.ts';
export type { TunerState__Output as TunerState } from './generated/braiins/bos/v1/TunerState.ts';
export type { RelativeTargetReference__Output as RelativeTargetReference } from './generated/braiins/bos/v1/RelativeTargetReference.ts';
export type {
  TunerConfiguration__Output as TunerConfiguration,
  TunerConfiguration as TunerConfigurationInput,
} from './generated/braiins/bos/v1/TunerConfiguration.ts';
export type {
  TunerConstraints__Output as TunerConstraints,
  TunerConstraints as TunerConstraintsInput,
} from './generated/braiins/bos/v1/TunerConstraints.ts';
export type {
  DPSConfiguration__Output as DPSConfiguration,
  DPSConfiguration as DPSConfigurationInput,
} from './generated/braiins/bos/v1/DPSConfiguration.ts';
export type {
  HashboardPerformanceConfiguration__Output as HashboardPerformanceConfiguration,
  HashboardPerformanceConfiguration as HashboardPerformanceConfigurationInput,
} from './generated/braiins/bos/v1/HashboardPerformanceConfiguration.ts';
export type {
  DPSConstraints__Output as DPSConstraints,
  DPSConstraints as DPSConstraintsInput,
} from './generated/braiins/bos/v1/DPSConstraints.ts';
export type {
  HashboardConstraints__Output as HashboardConstraints,
  HashboardConstraints as HashboardConstraintsInput,
} from './generated/braiins/bos/v1/HashboardConstraints.ts';
export type {
  PowerTargetProfile__Output as PowerTargetProfile,
  PowerTargetProfile as PowerTargetProfileInput,
} from './generated/braiins/bos/v1/PowerTargetProfile.ts';
export type {
  HashrateTargetProfile__Output as HashrateTargetProfile,
  HashrateTargetProfile as HashrateTargetProfileInput,
} from './generated/braiins/bos/v1/HashrateTargetProfile.ts';
export type {
  MinerEfficiencyPoint__Output as MinerEfficiencyPoint,
  MinerEfficiencyPoint as MinerEfficiencyPointInput,
} from './generated/braiins/bos/v1/MinerEfficiencyPoint.ts';
export type {
  GetMinerEfficiencyProfileResponse__Output as GetMinerEfficiencyProfileResponse,
  GetMinerEfficiencyProfileResponse as GetMinerEfficiencyProfileResponseInput,
} from './generated/braiins/bos/v1/GetMinerEfficiencyProfileResponse.ts';
export type {
  GetTunerStateResponse__Output as GetTunerStateResponse,
  GetTunerStateResponse as GetTunerStateResponseInput,
} from './generated/braiins/bos/v1/GetTunerStateResponse.ts';
export type {
  PowerTargetModeState__Output as PowerTargetModeState,
  PowerTargetModeState as PowerTargetModeStateInput,
} from './generated/braiins/bos/v1/PowerTargetModeState.ts';
export type {
  HashrateTargetModeState__Output as HashrateTargetModeState,
  HashrateTargetModeState as HashrateTargetModeStateInput,
} from './generated/braiins/bos/v1/HashrateTargetModeState.ts';
export type {
  ListTargetProfilesResponse__Output as ListTargetProfilesResponse,
  ListTargetProfilesResponse as ListTargetProfilesResponseInput,
} from './generated/braiins/bos/v1/ListTargetProfilesResponse.ts';
export type {
  SetDefaultPowerTargetRequest,
  SetDefaultPowerTargetRequest__Output as SetDefaultPowerTargetRequestOutput,
} from './generated/braiins/bos/v1/SetDefaultPowerTargetRequest.ts';
export type {
  SetPowerTargetRequest,
  SetPowerTargetRequest__Output as SetPowerTargetRequestOutput,
} from './generated/braiins/bos/v1/SetPowerTargetRequest.ts';
export type {
  IncrementPowerTargetRequest,
  IncrementPowerTargetRequest__Output as IncrementPowerTargetRequestOutput,
} from './generated/braiins/bos/v1/IncrementPowerTargetRequest.ts';
export type {
  DecrementPowerTargetRequest,
  DecrementPowerTargetRequest__Output as DecrementPowerTargetRequestOutput,
} from './generated/braiins/bos/v1/DecrementPowerTargetRequest.ts';
export type {
  SetPowerTargetResponse__Output as SetPowerTargetResponse,
  SetPowerTargetResponse as SetPowerTargetResponseInput,
} from './generated/braiins/bos/v1/SetPowerTargetResponse.ts';
export type {
  SetRelativeTargetRequest,
  SetRelativeTargetRequest__Output as SetRelativeTargetRequestOutput,
} from './generated/braiins/bos/v1/SetRelativeTargetRequest.ts';
export type {
  SetDefaultHashrateTargetRequest,
  SetDefaultHashrateTargetRequest__Output as SetDefaultHashrateTargetRequestOutput,
} from './generated/braiins/bos/v1/SetDefaultHashrateTargetRequest.ts';
export type {
  SetHashrateTargetRequest,
  SetHashrateTargetRequest__Output as SetHashrateTargetRequestOutput,
} from './generated/braiins/bos/v1/SetHashrateTargetRequest.ts';
export type {
  IncrementHashrateTargetRequest,
  IncrementHashrateTargetRequest__Output as IncrementHashrateTargetRequestOutput,
} from './generated/braiins/bos/v1/IncrementHashrateTargetRequest.ts';
export type {
  DecrementHashrateTargetRequest,
  DecrementHashrateTargetRequest__Output as DecrementHashrateTargetRequestOutput,
} from './generated/braiins/bos/v1/DecrementHashrateTargetRequest.ts';
export type {
  SetHashrateTargetResponse__Output as SetHashrateTargetResponse,
  SetHashrateTargetResponse as SetHashrateTargetResponseInput,
} from './generated/braiins/bos/v1/SetHashrateTargetResponse.ts';
export type {
  DPSPowerTarget__Output as DPSPowerTarget,
  DPSPowerTarget as DPSPowerTargetInput,
} from './generated/braiins/bos/v1/DPSPowerTarget.ts';
export type {
  DPSHashrateTarget__Output as DPSHashrateTarget,
  DPSHashrateTarget as DPSHashrateTargetInput,
} from './generated/braiins/bos/v1/DPSHashrateTarget.ts';
export type {
  DPSTarget__Output as DPSTarget,
  DPSTarget as DPSTargetInput,
} from './generated/braiins/bos/v1/DPSTarget.ts';
export type {
  SetDPSRequest,
  SetDPSRequest__Output as SetDPSRequestOutput,
} from './generated/braiins/bos/v1/SetDPSRequest.ts';
export type {
  SetDPSResponse__Output as SetDPSResponse,
  SetDPSResponse as SetDPSResponseInput,
} from './generated/braiins/bos/v1/SetDPSResponse.ts';
export type {
  HashboardPerformanceSettings__Output as HashboardPerformanceSettings,
  HashboardPerformanceSettings as HashboardPerformanceSettingsInput,
} from './generated/braiins/bos/v1/HashboardPerformanceSettings.ts';
export type {
  HashboardConfig__Output as HashboardConfig,
  HashboardConfig as HashboardConfigInput,
} from './generated/braiins/bos/v1/HashboardConfig.ts';
export type {
  ManualPerformanceMode__Output as ManualPerformanceMode,
  ManualPerformanceMode as ManualPerformanceModeInput,
} from './generated/braiins/bos/v1/ManualPerformanceMode.ts';
export type {
  PowerTargetMode__Output as PowerTargetMode,
  PowerTargetMode as PowerTargetModeInput,
} from './generated/braiins/bos/v1/PowerTargetMode.ts';
export type {
  HashrateTargetMode__Output as HashrateTargetMode,
  HashrateTargetMode as HashrateTargetModeInput,
} from './generated/braiins/bos/v1/HashrateTargetMode.ts';
export type {
  TunerPerformanceMode__Output as TunerPerformanceMode,
  TunerPerformanceMode as TunerPerformanceModeInput,
} from './generated/braiins/bos/v1/TunerPerformanceMode.ts';
export type {
  SetPerformanceModeRequest,
  SetPerformanceModeRequest__Output as SetPerformanceModeRequestOutput,
} from './generated/braiins/bos/v1/SetPerformanceModeRequest.ts';
export type {
  PerformanceMode__Output as PerformanceMode,
  PerformanceMode as PerformanceModeInput,
} from './generated/braiins/bos/v1/PerformanceMode.ts';
export type {
  SetQuickRampingRequest,
  SetQuickRampingRequest__Output as SetQuickRampingRequestOutput,
} from './generated/braiins/bos/v1/SetQuickRampingRequest.ts';
export type {
  QuickRampingResponse__Output as QuickRampingResponse,
  QuickRampingResponse as QuickRampingResponseInput,
} from './generated/braiins/bos/v1/QuickRampingResponse.ts';
export type {
  SetDefaultQuickRampingRequest,
  SetDefaultQuickRampingRequest__Output as SetDefaultQuickRampingRequestOutput,
} from './generated/braiins/bos/v1/SetDefaultQuickRampingRequest.ts';
export type {
  PerformanceServiceClient,
  PerformanceServiceDefinition,
  PerformanceServiceHandlers,
} from './generated/braiins/bos/v1/PerformanceService.ts';

// bos/v1/pool.proto
export type { Quota__Output as Quota, Quota as QuotaInput } from './generated/braiins/bos/v1/Quota.ts';
export type {
  FixedShareRatio__Output as FixedShareRatio,
  FixedShareRatio as FixedShareRatioInput,
} from './generated/braiins/bos/v1/FixedShareRatio.ts';
export type {
  PoolGroupConfiguration__Output as PoolGroupConfiguration,
  PoolGroupConfiguration as PoolGroupConfigurationInput,
} from './generated/braiins/bos/v1/PoolGroupConfiguration.ts';
export type {
  PoolConfiguration__Output as PoolConfiguration,
  PoolConfiguration as PoolConfigurationInput,
} from './generated/braiins/bos/v1/PoolConfiguration.ts';
export type {
  PoolGroup__Output as PoolGroup,
  PoolGroup as PoolGroupInput,
} from './generated/braiins/bos/v1/PoolGroup.ts';
export type { Pool__Output as Pool, Pool as PoolInput } from './generated/braiins/bos/v1/Pool.ts';
export type {
  PoolStats__Output as PoolStats,
  PoolStats as PoolStatsInput,
} from './generated/braiins/bos/v1/PoolStats.ts';
export type {
  GetPoolGroupsResponse__Output as GetPoolGroupsResponse,
  GetPoolGroupsResponse as GetPoolGroupsResponseInput,
} from './generated/braiins/bos/v1/GetPoolGroupsResponse.ts';
export type {
  CreatePoolGroupRequest,
  CreatePoolGroupRequest__Output as CreatePoolGroupRequestOutput,
} from './generated/braiins/bos/v1/CreatePoolGroupRequest.ts';
export type {
  CreatePoolGroupResponse__Output as CreatePoolGroupResponse,
  CreatePoolGroupResponse as CreatePoolGroupResponseInput,
} from './generated/braiins/bos/v1/CreatePoolGroupResponse.ts';
export type {
  UpdatePoolGroupRequest,
  UpdatePoolGroupRequest__Output as UpdatePoolGroupRequestOutput,
} from './generated/braiins/bos/v1/UpdatePoolGroupRequest.ts';
export type {
  UpdatePoolGroupResponse__Output as UpdatePoolGroupResponse,
  UpdatePoolGroupResponse as UpdatePoolGroupResponseInput,
} from './generated/braiins/bos/v1/UpdatePoolGroupResponse.ts';
export type {
  RemovePoolGroupRequest,
  RemovePoolGroupRequest__Output as RemovePoolGroupRequestOutput,
} from './generated/braiins/bos/v1/RemovePoolGroupRequest.ts';
export type {
  SetPoolGroupsRequest,
  SetPoolGroupsRequest__Output as SetPoolGroupsRequestOutput,
} from './generated/braiins/bos/v1/SetPoolGroupsRequest.ts';
export type {
  SetPoolGroupsResponse__Output as SetPoolGroupsResponse,
  SetPoolGroupsResponse as SetPoolGroupsResponseInput,
} from './generated/braiins/bos/v1/SetPoolGroupsResponse.ts';
export type {
  PoolServiceClient,
  PoolServiceDefinition,
  PoolServiceHandlers,
} from './generated/braiins/bos/v1/PoolService.ts';

// bos/v1/units.proto
export type { DayOfWeek__Output as DayOfWeek } from './generated/braiins/bos/v1/DayOfWeek.ts';
export type {
  MegaHashrate__Output as MegaHashrate,
  MegaHashrate as MegaHashrateInput,
} from './generated/braiins/bos/v1/MegaHashrate.ts';
export type {
  GigaHashrate__Output as GigaHashrate,
  GigaHashrate as GigaHashrateInput,
} from './generated/braiins/bos/v1/GigaHashrate.ts';
export type {
  TeraHashrate__Output as TeraHashrate,
  TeraHashrate as TeraHashrateInput,
} from './generated/braiins/bos/v1/TeraHashrate.ts';
export type {
  Frequency__Output as Frequency,
  Frequency as FrequencyInput,
} from './generated/braiins/bos/v1/Frequency.ts';
export type {
  Voltage__Output as Voltage,
  Voltage as VoltageInput,
} from './generated/braiins/bos/v1/Voltage.ts';
export type { Power__Output as Power, Power as PowerInput } from './generated/braiins/bos/v1/Power.ts';
export type {
  PowerEfficiency__Output as PowerEfficiency,
  PowerEfficiency as PowerEfficiencyInput,
} from './generated/braiins/bos/v1/PowerEfficiency.ts';
export type {
  Temperature__Output as Temperature,
  Temperature as TemperatureInput,
} from './generated/braiins/bos/v1/Temperature.ts';
export type {
  BasesPoints__Output as BasesPoints,
  BasesPoints as BasesPointsInput,
} from './generated/braiins/bos/v1/BasesPoints.ts';
export type { Hours__Output as Hours, Hours as HoursInput } from './generated/braiins/bos/v1/Hours.ts';

// bos/v1/upgrade.proto
export type {
  UpgradeTime__Output as UpgradeTime,
  UpgradeTime as UpgradeTimeInput,
} from './generated/braiins/bos/v1/UpgradeTime.ts';
export type {
  DailySchedule__Output as DailySchedule,
  DailySchedule as DailyScheduleInput,
} from './generated/braiins/bos/v1/DailySchedule.ts';
export type {
  WeeklySchedule__Output as WeeklySchedule,
  WeeklySchedule as WeeklyScheduleInput,
} from './generated/braiins/bos/v1/WeeklySchedule.ts';
export type {
  MonthlySchedule__Output as MonthlySchedule,
  MonthlySchedule as MonthlyScheduleInput,
} from './generated/braiins/bos/v1/MonthlySchedule.ts';
export type {
  AutoUpgradeSchedule__Output as AutoUpgradeSchedule,
  AutoUpgradeSchedule as AutoUpgradeScheduleInput,
} from './generated/braiins/bos/v1/AutoUpgradeSchedule.ts';
export type {
  UpdateAutoUpgradeConfigRequest,
  UpdateAutoUpgradeConfigRequest__Output as UpdateAutoUpgradeConfigRequestOutput,
} from './generated/braiins/bos/v1/UpdateAutoUpgradeConfigRequest.ts';
export type {
  UpdateAutoUpgradeConfigResponse__Output as UpdateAutoUpgradeConfigResponse,
  UpdateAutoUpgradeConfigResponse as UpdateAutoUpgradeConfigResponseInput,
} from './generated/braiins/bos/v1/UpdateAutoUpgradeConfigResponse.ts';
export type {
  GetAutoUpgradeStatusResponse__Output as GetAutoUpgradeStatusResponse,
  GetAutoUpgradeStatusResponse as GetAutoUpgradeStatusResponseInput,
} from './generated/braiins/bos/v1/GetAutoUpgradeStatusResponse.ts';
export type {
  SystemUpgradeMetadata__Output as SystemUpgradeMetadata,
  SystemUpgradeMetadata as SystemUpgradeMetadataInput,
} from './generated/braiins/bos/v1/SystemUpgradeMetadata.ts';
export type {
  SystemUpgradeRequest,
  SystemUpgradeRequest__Output as SystemUpgradeRequestOutput,
} from './generated/braiins/bos/v1/SystemUpgradeRequest.ts';
export type {
  SystemUpgradeResponse__Output as SystemUpgradeResponse,
  SystemUpgradeResponse as SystemUpgradeResponseInput,
} from './generated/braiins/bos/v1/SystemUpgradeResponse.ts';
export type {
  RestoreStockResponse__Output as RestoreStockResponse,
  RestoreStockResponse as RestoreStockResponseInput,
} from './generated/braiins/bos/v1/RestoreStockResponse.ts';
export type {
  UpgradeServiceClient,
  UpgradeServiceDefinition,
  UpgradeServiceHandlers,
} from './generated/braiins/bos/v1/UpgradeService.ts';

// bos/v1/work.proto
export type {
  RealHashrate__Output as RealHashrate,
  RealHashrate as RealHashrateInput,
} from './generated/braiins/bos/v1/RealHashrate.ts';
export type {
  WorkSolverStats__Output as WorkSolverStats,
  WorkSolverStats as WorkSolverStatsInput,
} from './generated/braiins/bos/v1/WorkSolverStats.ts';
