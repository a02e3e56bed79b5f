// Wire contract of our proto/ files against the Braiins OS public API 1.11.0. The tables below
// are transcribed from the API reference notes (Appendix A message/enum index and the §2.1 RPC
// table), not from the .proto files, so any drift in a field number, type, label, oneof, enum
// value or RPC shape fails here.
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { describe, expect, expectTypeOf, it } from 'vitest';

import {
  BOS_SERVICE_FULL_NAMES,
  bosServices,
  decodeMessage,
  encodeMessage,
  enumValues,
  LOADER_OPTIONS,
  loadBosPackage,
  loadProtoRoot,
  PROTO_FILES,
  PROTO_ROOT,
} from '../../proto/loader.ts';
import type {
  GetMinerStatsResponse,
  GetMinerStatsResponseInput,
  GetTunerStateResponse,
  Hashboard,
  MinerServiceHandlers,
  MinerStatus,
  SetPowerTargetRequest,
  TunerState,
} from '../../proto/types.ts';

type Kind = 'U' | 'SS' | 'CS';

// Field spec: "<number> <name> <type> [optional|repeated|oneof:<name>] [deprecated]", joined by "; ".
// `gp.` = google.protobuf.; other types without a package are in the file's package; key suffix
// " deprecated" marks a deprecated message/enum. Enum spec: "NAME=<n> [deprecated], ...".
const WIRE: Record<
  string,
  { pkg: string; messages: Record<string, string>; enums?: Record<string, string> }
> = {
  'bos/version.proto': {
    pkg: 'braiins.bos',
    messages: {
      ApiVersion: '1 major uint64; 2 minor uint64; 3 patch uint64; 4 pre string; 5 build string',
      ApiVersionRequest: '',
    },
  },
  'bos/v1/units.proto': {
    pkg: 'braiins.bos.v1',
    messages: {
      MegaHashrate: '1 megahash_per_second double',
      GigaHashrate: '1 gigahash_per_second double',
      TeraHashrate: '1 terahash_per_second double',
      Frequency: '1 hertz double',
      Voltage: '1 volt double',
      Power: '1 watt uint64',
      PowerEfficiency: '1 joule_per_terahash double',
      Temperature: '1 degree_c double',
      BasesPoints: '1 bsp uint32',
      Hours: '1 hours uint32',
    },
    enums: {
      DayOfWeek:
        'DAY_OF_WEEK_UNSPECIFIED=0, DAY_OF_WEEK_MONDAY=1, DAY_OF_WEEK_TUESDAY=2, DAY_OF_WEEK_WEDNESDAY=3, DAY_OF_WEEK_THURSDAY=4, DAY_OF_WEEK_FRIDAY=5, DAY_OF_WEEK_SATURDAY=6, DAY_OF_WEEK_SUNDAY=7',
    },
  },
  'bos/v1/common.proto': {
    pkg: 'braiins.bos.v1',
    messages: {},
    enums: {
      SaveAction:
        'SAVE_ACTION_UNSPECIFIED=0, SAVE_ACTION_SAVE=1, SAVE_ACTION_SAVE_AND_APPLY=2, SAVE_ACTION_SAVE_AND_FORCE_APPLY=3',
    },
  },
  'bos/v1/constraints.proto': {
    pkg: 'braiins.bos.v1',
    messages: {
      UInt32Constraints: '1 default uint32; 2 min uint32; 3 max uint32',
      DoubleConstraints: '1 default double; 2 min double; 3 max double',
      PowerConstraints: '1 default Power; 2 min Power; 3 max Power',
      HashrateConstraints: '1 default TeraHashrate; 2 min TeraHashrate; 3 max TeraHashrate',
      TemperatureConstraints: '1 default Temperature; 2 min Temperature; 3 max Temperature',
      BooleanConstraint: '1 default bool',
      DurationConstraints: '1 default Hours; 2 min Hours; 3 max Hours',
      FrequencyConstraints: '1 default Frequency; 2 min Frequency; 3 max Frequency',
      VoltageConstraints: '1 default Voltage; 2 min Voltage; 3 max Voltage',
    },
  },
  'bos/v1/work.proto': {
    pkg: 'braiins.bos.v1',
    messages: {
      RealHashrate:
        '1 last_5s GigaHashrate; 2 last_15s GigaHashrate; 3 last_30s GigaHashrate; 4 last_1m GigaHashrate; 5 last_5m GigaHashrate; 6 last_15m GigaHashrate; 7 last_30m GigaHashrate; 8 last_1h GigaHashrate; 9 last_24h GigaHashrate; 10 since_restart GigaHashrate',
      WorkSolverStats:
        '1 real_hashrate RealHashrate; 2 nominal_hashrate GigaHashrate; 3 error_hashrate MegaHashrate; 4 found_blocks uint32; 5 best_share uint64 deprecated; 6 best_share_str string',
    },
  },
  'bos/v1/authentication.proto': {
    pkg: 'braiins.bos.v1',
    messages: {
      LoginRequest: '1 username string; 2 password string',
      LoginResponse: '1 token string; 2 timeout_s uint32',
      SetPasswordRequest: '1 password string optional',
      SetPasswordResponse: '',
    },
  },
  'bos/v1/actions.proto': {
    pkg: 'braiins.bos.v1',
    messages: {
      StartRequest: '',
      StartResponse: '1 already_running bool',
      RestartRequest: '',
      RestartResponse: '1 already_running bool',
      RebootRequest: '',
      RebootResponse: '',
      StopRequest: '',
      StopResponse: '1 already_stopped bool',
      FactoryResetRequest: '',
      FactoryResetResponse: '',
      PauseMiningRequest: '',
      PauseMiningResponse: '1 already_paused bool',
      ResumeMiningRequest: '',
      ResumeMiningResponse: '1 already_mining bool',
      SetLocateDeviceStatusRequest: '1 enable bool',
      LocateDeviceStatusResponse: '1 enabled bool',
      GetLocateDeviceStatusRequest: '',
    },
  },
  'bos/v1/miner.proto': {
    pkg: 'braiins.bos.v1',
    messages: {
      MinerIdentity: '1 brand MinerBrand; 2 model MinerModel deprecated; 3 name string; 4 miner_model string',
      BosVersion: '1 current string; 2 major string; 3 bos_plus bool',
      ErrorCode: '1 code string; 2 reason string; 3 hint string',
      Component: '1 name string; 2 index uint32',
      MinerError:
        '1 timestamp string; 2 message string; 3 error_codes ErrorCode repeated; 4 components Component repeated',
      GetMinerStatusRequest: '',
      GetMinerStatusResponse: '1 status MinerStatus',
      GetMinerDetailsRequest: '',
      PsuInfo:
        '1 version gp.UInt32Value optional; 2 fw_version gp.UInt32Value optional; 3 serial_number string optional; 4 model_name string optional; 5 min_voltage Voltage optional; 6 max_voltage Voltage optional',
      GetMinerDetailsResponse:
        '1 uid string; 2 miner_identity MinerIdentity; 3 platform Platform; 4 bos_mode BosMode; 5 bos_version BosVersion; 6 hostname string; 7 mac_address string; 8 system_uptime uint64 deprecated; 9 sticker_hashrate GigaHashrate; 10 bosminer_uptime_s uint64; 11 system_uptime_s uint64; 12 status MinerStatus; 13 kernel_version string; 14 psu_info PsuInfo optional; 15 control_board_soc_family ControlBoardSocFamily; 16 serial_number string optional',
      MinerPowerStats: '1 approximated_consumption Power; 2 efficiency PowerEfficiency',
      GetMinerStatsRequest: '',
      GetMinerStatsResponse:
        '1 pool_stats PoolStats; 2 miner_stats WorkSolverStats; 3 power_stats MinerPowerStats',
      GetErrorsRequest: '',
      GetErrorsResponse: '1 errors MinerError repeated',
      Hashboard:
        '1 id string; 2 enabled bool; 3 chips_count gp.UInt32Value; 4 current_voltage Voltage; 5 current_frequency Frequency; 6 highest_chip_temp TemperatureSensor; 7 board_temp Temperature; 8 stats WorkSolverStats; 9 model string optional; 10 lowest_inlet_temp Temperature; 11 highest_outlet_temp Temperature; 12 serial_number string optional; 13 board_name string optional; 14 chip_type string optional; 15 lowest_water_inlet_temp Temperature optional; 16 highest_water_outlet_temp Temperature optional',
      GetSupportArchiveRequest: '1 format SupportArchiveFormat',
      GetSupportArchiveResponse: '1 chunk_data bytes',
      GetLogRequest: '1 log_type LogType',
      GetLogResponse: '1 chunk_data bytes',
      GetHashboardsRequest: '',
      GetHashboardsResponse: '1 hashboards Hashboard repeated',
      EnableHashboardsRequest: '1 save_action SaveAction; 2 hashboard_ids string repeated',
      EnableHashboardsResponse: '1 hashboards HashboardEnableState repeated',
      DisableHashboardsRequest: '1 save_action SaveAction; 2 hashboard_ids string repeated',
      DisableHashboardsResponse: '1 hashboards HashboardEnableState repeated',
      HashboardEnableState: '1 id string; 2 is_enabled bool',
    },
    enums: {
      Platform:
        'PLATFORM_UNSPECIFIED=0, PLATFORM_AM1_S9=1, PLATFORM_AM2_S17=2, PLATFORM_AM3_BBB=3, PLATFORM_AM3_AML=4, PLATFORM_STM32MP157C_II1_AM2=5, PLATFORM_CVITEK_BM1_AM2=6, PLATFORM_ZYNQ_BM3_AM2=7, PLATFORM_STM32MP157C_II2_BMM1=8',
      ControlBoardSocFamily:
        'CONTROL_BOARD_SOC_FAMILY_UNSPECIFIED=0, CONTROL_BOARD_SOC_FAMILY_CVITEK=1, CONTROL_BOARD_SOC_FAMILY_BBB=2, CONTROL_BOARD_SOC_FAMILY_AML=3, CONTROL_BOARD_SOC_FAMILY_ZYNQ=4, CONTROL_BOARD_SOC_FAMILY_BRAIINS=5',
      BosMode:
        'BOS_MODE_UNSPECIFIED=0, BOS_MODE_UPGRADE=1, BOS_MODE_RECOVERY=2, BOS_MODE_SD=3, BOS_MODE_NAND=4, BOS_MODE_EMMC=5',
      MinerBrand: 'MINER_BRAND_UNSPECIFIED=0, MINER_BRAND_ANTMINER=1, MINER_BRAND_WHATSMINER=2',
      'MinerModel deprecated':
        'MINER_MODEL_UNSPECIFIED=0, MINER_MODEL_ANTMINER_S9=1, MINER_MODEL_ANTMINER_X17=2, MINER_MODEL_ANTMINER_S17=3, MINER_MODEL_ANTMINER_S17_PLUS=4, MINER_MODEL_ANTMINER_S17_PRO=5, MINER_MODEL_ANTMINER_S17E=6, MINER_MODEL_ANTMINER_T17=7, MINER_MODEL_ANTMINER_T17E=8, MINER_MODEL_ANTMINER_T17_PLUS=9, MINER_MODEL_ANTMINER_X19=10, MINER_MODEL_ANTMINER_S19=11, MINER_MODEL_ANTMINER_S19_PRO=12, MINER_MODEL_ANTMINER_S19_PLUS=13, MINER_MODEL_ANTMINER_S19J=14, MINER_MODEL_ANTMINER_S19J_PRO=15, MINER_MODEL_ANTMINER_S19A=16, MINER_MODEL_ANTMINER_S19A_PRO=17, MINER_MODEL_ANTMINER_S19XP=18, MINER_MODEL_ANTMINER_T19=19, MINER_MODEL_ANTMINER_S19J_PRO_PLUS=20',
      MinerStatus:
        'MINER_STATUS_UNSPECIFIED=0, MINER_STATUS_NOT_STARTED=1, MINER_STATUS_NORMAL=2, MINER_STATUS_PAUSED=3, MINER_STATUS_SUSPENDED=4, MINER_STATUS_RESTRICTED=5',
      SupportArchiveFormat:
        'SUPPORT_ARCHIVE_FORMAT_UNSPECIFIED=0, SUPPORT_ARCHIVE_FORMAT_ZIP=1, SUPPORT_ARCHIVE_FORMAT_BOS=2, SUPPORT_ARCHIVE_FORMAT_ZIP_ENCRYPTED=3',
      LogType:
        'LOG_TYPE_UNSPECIFIED=0, LOG_TYPE_ERRORS=1, LOG_TYPE_BOSMINER=2, LOG_TYPE_BOSER=3, LOG_TYPE_MONITOR=4, LOG_TYPE_SYSLOG=5, LOG_TYPE_DMESG=6',
    },
  },
  'bos/v1/cooling.proto': {
    pkg: 'braiins.bos.v1',
    messages: {
      PauseMode: '1 auto AutoPauseMode oneof:mode; 2 manual ManualPauseMode oneof:mode',
      AutoPauseMode: '',
      ManualPauseMode:
        '1 pause_cooldown_fan_speed_ratio double optional; 2 fan_pause_runtime FanPauseRuntime optional',
      CoolingAutoMode:
        '1 target_temperature Temperature; 2 hot_temperature Temperature; 3 dangerous_temperature Temperature; 4 min_fan_speed uint32 optional; 5 max_fan_speed uint32 optional; 6 minimum_required_fans uint32 optional; 7 pause_mode PauseMode optional',
      CoolingManualMode:
        '1 fan_speed_ratio double optional; 2 hot_temperature Temperature; 3 dangerous_temperature Temperature; 4 target_temperature Temperature; 5 minimum_required_fans uint32 optional; 6 pause_mode PauseMode optional',
      'CoolingDisabledMode deprecated': '1 fan_speed_ratio double optional',
      CoolingImmersionMode:
        '1 hot_temperature Temperature; 2 dangerous_temperature Temperature; 3 target_temperature Temperature',
      CoolingHydroMode:
        '1 hot_temperature Temperature; 2 dangerous_temperature Temperature; 3 target_temperature Temperature',
      CoolingConfiguration:
        '1 minimum_required_fans uint32 optional deprecated; 2 auto CoolingAutoMode oneof:mode; 3 manual CoolingManualMode oneof:mode; 4 disabled CoolingDisabledMode oneof:mode deprecated; 5 immersion CoolingImmersionMode oneof:mode; 6 hydro CoolingHydroMode oneof:mode',
      CoolingConstraints:
        '1 default_cooling_mode CoolingMode; 2 target_temperature TemperatureConstraints; 3 hot_temperature TemperatureConstraints; 4 dangerous_temperature TemperatureConstraints; 5 fan_speed_ratio DoubleConstraints; 6 minimum_required_fans UInt32Constraints; 7 min_fan_speed UInt32Constraints; 8 max_fan_speed UInt32Constraints; 9 pause_cooldown_fan_speed_ratio DoubleConstraints; 10 default_fan_pause_mode FanPauseMode optional; 11 default_fan_pause_runtime FanPauseRuntime optional; 12 fan_pause_runtime_limited_duration_s uint32 optional',
      FanState: '1 position uint32 optional; 2 rpm uint32; 3 target_speed_ratio double optional',
      TemperatureSensor: '1 id uint32 optional; 2 location SensorLocation; 3 temperature Temperature',
      GetCoolingStateRequest: '',
      GetCoolingStateResponse: '1 fans FanState repeated; 2 highest_temperature TemperatureSensor',
      SetImmersionModeRequest: '1 save_action SaveAction; 2 enable_immersion_mode bool',
      SetImmersionModeResponse: '1 immersion_mode bool',
      SetCoolingModeRequest:
        '1 save_action SaveAction; 2 auto CoolingAutoMode oneof:mode; 3 manual CoolingManualMode oneof:mode; 4 immersion CoolingImmersionMode oneof:mode; 5 hydro CoolingHydroMode oneof:mode',
      SetCoolingModeResponse:
        '1 auto CoolingAutoMode oneof:mode; 2 manual CoolingManualMode oneof:mode; 3 immersion CoolingImmersionMode oneof:mode; 4 hydro CoolingHydroMode oneof:mode',
    },
    enums: {
      CoolingMode:
        'COOLING_MODE_UNSPECIFIED=0, COOLING_MODE_AUTO=1, COOLING_MODE_MANUAL=2, COOLING_MODE_DISABLED=3 deprecated, COOLING_MODE_IMMERSION=4, COOLING_MODE_HYDRO=5',
      FanPauseMode: 'FAN_PAUSE_MODE_UNSPECIFIED=0, FAN_PAUSE_MODE_AUTO=1, FAN_PAUSE_MODE_MANUAL=2',
      FanPauseRuntime:
        'FAN_PAUSE_RUNTIME_UNSPECIFIED=0, FAN_PAUSE_RUNTIME_LIMITED=1, FAN_PAUSE_RUNTIME_INDEFINITE=2',
      SensorLocation: 'SENSOR_LOCATION_UNSPECIFIED=0, SENSOR_LOCATION_CHIP=1, SENSOR_LOCATION_PCB=2',
    },
  },
  'bos/v1/performance.proto': {
    pkg: 'braiins.bos.v1',
    messages: {
      TunerConfiguration:
        '1 enabled bool optional; 2 tuner_mode TunerMode optional; 3 power_target Power; 4 hashrate_target TeraHashrate',
      TunerConstraints:
        '1 power_target PowerConstraints; 2 hashrate_target HashrateConstraints; 3 enabled BooleanConstraint; 4 default_mode TunerMode',
      DPSConfiguration:
        '1 enabled bool optional; 2 power_step Power; 3 hashrate_step TeraHashrate; 4 min_power_target Power; 5 min_hashrate_target TeraHashrate; 6 shutdown_enabled bool optional; 7 shutdown_duration Hours; 8 mode DPSMode optional; 9 on_start_target_percent uint32 optional',
      HashboardPerformanceConfiguration:
        '1 global_frequency Frequency; 2 global_voltage Voltage; 3 hashboards HashboardConfig repeated; 4 quick_ramping_time_up_s uint32 optional; 5 quick_ramping_time_down_s uint32 optional',
      DPSConstraints:
        '1 power_step PowerConstraints; 2 hashrate_step HashrateConstraints; 3 min_power_target PowerConstraints; 4 min_hashrate_target HashrateConstraints; 5 shutdown_enabled BooleanConstraint; 6 shutdown_duration DurationConstraints; 7 enabled BooleanConstraint; 8 mode DPSMode; 9 on_start_target_percent UInt32Constraints',
      HashboardConstraints:
        '1 hashboard_ids string repeated; 2 enabled BooleanConstraint; 3 frequency FrequencyConstraints; 4 voltage VoltageConstraints; 5 quick_ramping_time_s UInt32Constraints',
      PowerTargetProfile:
        '1 created gp.Timestamp; 2 target Power; 3 measured_hashrate GigaHashrate; 4 estimated_power_consumption Power',
      HashrateTargetProfile:
        '1 created gp.Timestamp; 2 target TeraHashrate; 3 measured_hashrate GigaHashrate; 4 estimated_power_consumption Power',
      MinerEfficiencyPoint:
        '1 quality uint32; 2 power_target Power; 3 consumption Power; 4 fan_speed uint32; 5 outlet_temp Temperature; 6 ambient_temp Temperature; 7 hashrate TeraHashrate; 8 frequency Frequency; 9 voltage Voltage',
      GetMinerEfficiencyProfileRequest: '',
      GetMinerEfficiencyProfileResponse: '1 points MinerEfficiencyPoint repeated',
      GetTunerStateRequest: '',
      GetTunerStateResponse:
        '1 overall_tuner_state TunerState; 2 power_target_mode_state PowerTargetModeState oneof:mode_state; 3 hashrate_target_mode_state HashrateTargetModeState oneof:mode_state',
      PowerTargetModeState: '1 profile PowerTargetProfile; 2 current_target Power',
      HashrateTargetModeState: '1 profile HashrateTargetProfile; 2 current_target TeraHashrate',
      ListTargetProfilesRequest: '',
      ListTargetProfilesResponse:
        '1 power_target_profiles PowerTargetProfile repeated; 2 hashrate_target_profiles HashrateTargetProfile repeated',
      SetDefaultPowerTargetRequest: '1 save_action SaveAction',
      SetPowerTargetRequest: '1 save_action SaveAction; 2 power_target Power',
      IncrementPowerTargetRequest: '1 save_action SaveAction; 2 power_target_increment Power',
      DecrementPowerTargetRequest: '1 save_action SaveAction; 2 power_target_decrement Power',
      SetPowerTargetResponse: '1 power_target Power',
      SetRelativeTargetRequest:
        '1 save_action SaveAction; 2 percentage double; 3 reference RelativeTargetReference',
      SetDefaultHashrateTargetRequest: '1 save_action SaveAction',
      SetHashrateTargetRequest: '1 save_action SaveAction; 2 hashrate_target TeraHashrate',
      IncrementHashrateTargetRequest: '1 save_action SaveAction; 2 hashrate_target_increment TeraHashrate',
      DecrementHashrateTargetRequest: '1 save_action SaveAction; 2 hashrate_target_decrement TeraHashrate',
      SetHashrateTargetResponse: '1 hashrate_target TeraHashrate',
      DPSPowerTarget: '1 power_step Power; 2 min_power_target Power',
      DPSHashrateTarget: '1 hashrate_step TeraHashrate; 2 min_hashrate_target TeraHashrate',
      DPSTarget:
        '1 power_target DPSPowerTarget oneof:target; 2 hashrate_target DPSHashrateTarget oneof:target',
      SetDPSRequest:
        '1 save_action SaveAction; 2 enable bool optional; 3 enable_shutdown bool optional; 4 shutdown_duration Hours optional; 5 target DPSTarget; 6 mode DPSMode optional; 7 on_start_target_percent uint32 optional',
      SetDPSResponse:
        '1 enabled bool optional; 2 shutdown_enabled bool optional; 3 shutdown_duration Hours optional; 4 power_target DPSPowerTarget; 5 hashrate_target DPSHashrateTarget; 6 mode DPSMode optional; 7 on_start_target_percent uint32 optional',
      HashboardPerformanceSettings: '1 id string; 2 frequency Frequency; 3 voltage Voltage',
      HashboardConfig: '1 id string; 2 enabled bool optional; 3 frequency Frequency; 4 voltage Voltage',
      ManualPerformanceMode:
        '1 global_frequency Frequency; 2 global_voltage Voltage; 3 hashboards HashboardPerformanceSettings repeated',
      PowerTargetMode: '1 power_target Power',
      HashrateTargetMode: '1 hashrate_target TeraHashrate',
      TunerPerformanceMode:
        '1 power_target PowerTargetMode oneof:target; 2 hashrate_target HashrateTargetMode oneof:target',
      SetPerformanceModeRequest: '1 save_action SaveAction; 2 mode PerformanceMode',
      PerformanceMode:
        '1 manual_mode ManualPerformanceMode oneof:mode; 2 tuner_mode TunerPerformanceMode oneof:mode',
      GetPerformanceModeRequest: '',
      RemoveTunedProfilesRequest: '',
      RemoveTunedProfilesResponse: '',
      SetQuickRampingRequest: '1 save_action SaveAction; 2 up_s uint32; 3 down_s uint32',
      QuickRampingResponse: '1 up_s uint32; 2 down_s uint32',
      SetDefaultQuickRampingRequest: '1 save_action SaveAction',
    },
    enums: {
      TunerMode: 'TUNER_MODE_UNSPECIFIED=0, TUNER_MODE_POWER_TARGET=1, TUNER_MODE_HASHRATE_TARGET=2',
      DPSMode: 'DPS_MODE_UNSPECIFIED=0, DPS_MODE_NORMAL=1, DPS_MODE_BOOST=2',
      TunerState:
        'TUNER_STATE_UNSPECIFIED=0, TUNER_STATE_DISABLED=1, TUNER_STATE_STABLE=2, TUNER_STATE_TUNING=3, TUNER_STATE_ERROR=4, TUNER_STATE_CONTINUOUS=5, TUNER_STATE_PREHEAT=6',
      RelativeTargetReference:
        'RELATIVE_TARGET_REFERENCE_UNSPECIFIED=0, RELATIVE_TARGET_REFERENCE_NOMINAL=1, RELATIVE_TARGET_REFERENCE_MIN=2, RELATIVE_TARGET_REFERENCE_MAX=3, RELATIVE_TARGET_REFERENCE_CURRENT=4',
    },
  },
  'bos/v1/pool.proto': {
    pkg: 'braiins.bos.v1',
    messages: {
      Quota: '1 value uint32',
      FixedShareRatio: '1 value double',
      PoolGroupConfiguration:
        '1 uid string optional; 2 name string; 3 quota Quota oneof:load_balance_strategy; 4 fixed_share_ratio FixedShareRatio oneof:load_balance_strategy; 5 pools PoolConfiguration repeated',
      PoolConfiguration:
        '1 uid string optional; 2 url string; 3 user string; 4 password string optional; 5 enabled bool optional',
      PoolGroup:
        '1 name string; 2 quota Quota oneof:strategy; 3 fixed_share_ratio FixedShareRatio oneof:strategy; 4 pools Pool repeated; 5 uid string',
      Pool: '1 uid string; 2 url string; 3 user string; 4 enabled bool; 5 alive bool; 6 active bool; 7 stats PoolStats',
      PoolStats:
        '1 accepted_shares uint64; 2 rejected_shares uint64; 3 stale_shares uint64; 4 last_difficulty uint64; 5 best_share uint64 deprecated; 6 generated_work uint64; 7 last_share_time gp.Timestamp optional; 8 best_share_str string',
      GetPoolGroupsRequest: '',
      GetPoolGroupsResponse: '1 pool_groups PoolGroup repeated',
      CreatePoolGroupRequest: '1 save_action SaveAction; 2 group PoolGroupConfiguration',
      CreatePoolGroupResponse: '1 group PoolGroupConfiguration',
      UpdatePoolGroupRequest: '1 save_action SaveAction; 2 group PoolGroupConfiguration',
      UpdatePoolGroupResponse: '1 group PoolGroupConfiguration',
      RemovePoolGroupRequest: '1 save_action SaveAction; 2 uid string',
      RemovePoolGroupResponse: '',
      SetPoolGroupsRequest: '1 save_action SaveAction; 2 pool_groups PoolGroupConfiguration repeated',
      SetPoolGroupsResponse: '1 pool_groups PoolGroupConfiguration repeated',
    },
  },
  'bos/v1/configuration.proto': {
    pkg: 'braiins.bos.v1',
    messages: {
      GetMinerConfigurationRequest: '',
      GetMinerConfigurationResponse:
        '1 pool_groups PoolGroupConfiguration repeated; 2 temperature CoolingConfiguration; 3 tuner TunerConfiguration; 4 dps DPSConfiguration; 5 hashboard_config HashboardPerformanceConfiguration',
      GetConstraintsRequest: '',
      GetConstraintsResponse:
        '1 tuner_constraints TunerConstraints; 2 cooling_constraints CoolingConstraints; 3 dps_constraints DPSConstraints; 4 hashboards_constraints HashboardConstraints',
    },
  },
  'bos/v1/license.proto': {
    pkg: 'braiins.bos.v1',
    messages: {
      NoneLicense: '1 time_to_restricted uint32',
      LimitedLicense: '',
      ValidLicense:
        '1 type LicenseType; 2 contract_name string; 3 time_to_restricted uint32; 4 dev_fee BasesPoints',
      ExpiredLicense: '1 type LicenseType; 2 contract_name string; 3 dev_fee BasesPoints',
      GetLicenseStateRequest: '',
      GetLicenseStateResponse:
        '1 none NoneLicense oneof:state; 2 limited LimitedLicense oneof:state; 3 valid ValidLicense oneof:state; 4 expired ExpiredLicense oneof:state',
      ApplyContractKeyRequest: '1 contract_key string',
      ApplyContractKeyResponse: '1 successful bool',
    },
    enums: {
      LicenseType: 'LICENSE_TYPE_UNSPECIFIED=0, LICENSE_TYPE_STANDARD=1, LICENSE_TYPE_CUSTOM=2',
    },
  },
  'bos/v1/network.proto': {
    pkg: 'braiins.bos.v1',
    messages: {
      GetNetworkConfigurationRequest: '',
      GetNetworkConfigurationResponse: '1 network NetworkConfiguration',
      SetNetworkConfigurationRequest:
        '1 dhcp Dhcp oneof:protocol; 2 static Static oneof:protocol; 3 hostname string optional',
      SetNetworkConfigurationResponse: '1 network NetworkConfiguration',
      NetworkConfiguration: '1 dhcp Dhcp oneof:protocol; 2 static Static oneof:protocol; 3 hostname string',
      Dhcp: '',
      Static: '1 address string; 2 netmask string; 3 gateway string; 4 dns_servers string repeated',
      GetNetworkInfoRequest: '',
      GetNetworkInfoResponse:
        '1 name string; 2 mac_address string optional; 3 hostname string optional; 4 protocol NetworkProtocol optional; 5 dns_servers string repeated; 6 networks IpNetwork repeated; 7 default_gateway string optional',
      IpNetwork: '1 address string; 2 netmask string',
    },
    enums: {
      NetworkProtocol: 'NETWORK_PROTOCOL_UNSPECIFIED=0, NETWORK_PROTOCOL_DHCP=1, NETWORK_PROTOCOL_STATIC=2',
    },
  },
  'bos/v1/upgrade.proto': {
    pkg: 'braiins.bos.v1',
    messages: {
      UpgradeTime: '1 hours uint32; 2 minutes uint32; 3 seconds uint32 optional',
      DailySchedule: '1 time UpgradeTime optional',
      WeeklySchedule: '1 day_of_week DayOfWeek optional; 2 time UpgradeTime optional',
      MonthlySchedule: '1 day_of_month uint32 optional; 2 time UpgradeTime optional',
      AutoUpgradeSchedule:
        '1 daily DailySchedule oneof:schedule_type; 2 weekly WeeklySchedule oneof:schedule_type; 3 monthly MonthlySchedule oneof:schedule_type',
      UpdateAutoUpgradeConfigRequest: '1 enabled bool; 2 schedule AutoUpgradeSchedule optional',
      UpdateAutoUpgradeConfigResponse: '1 enabled bool; 2 next_execution gp.Timestamp optional',
      GetAutoUpgradeStatusRequest: '',
      GetAutoUpgradeStatusResponse:
        '1 enabled bool; 2 schedule AutoUpgradeSchedule optional; 3 next_execution gp.Timestamp optional; 4 last_execution gp.Timestamp optional',
      SystemUpgradeMetadata: '1 size uint64; 2 hash string; 3 discard_settings bool; 4 disable_cleanup bool',
      SystemUpgradeRequest: '1 metadata SystemUpgradeMetadata oneof:payload; 2 data bytes oneof:payload',
      SystemUpgradeResponse: '1 successful bool',
      RestoreStockRequest: '',
      RestoreStockResponse: '1 successful bool',
    },
  },
  'bos/v1/advanced_settings.proto': {
    pkg: 'braiins.bos.v1',
    messages: {
      GetSettingsSchemaRequest: '',
      GetSettingsSchemaResponse: '1 schema gp.Struct',
      GetSettingsRequest: '1 include_default bool optional',
      GetSettingsResponse: '1 settings gp.Struct',
      SetSettingsRequest: '1 settings gp.Struct',
      SetSettingsResponse: '1 applied gp.Struct',
      ResetAllSettingsRequest: '',
      ResetAllSettingsResponse: '1 settings gp.Struct',
    },
  },
};

// §2.1: [service, rpc, kind (U unary, SS server stream, CS client stream), request, response].
const RPCS: ReadonlyArray<
  readonly [service: string, rpc: string, kind: Kind, request: string, response: string]
> = [
  ['ApiVersionService', 'GetApiVersion', 'U', 'ApiVersionRequest', 'ApiVersion'],
  ['AuthenticationService', 'Login', 'U', 'LoginRequest', 'LoginResponse'],
  ['AuthenticationService', 'SetPassword', 'U', 'SetPasswordRequest', 'SetPasswordResponse'],
  ['ActionsService', 'Start', 'U', 'StartRequest', 'StartResponse'],
  ['ActionsService', 'Stop', 'U', 'StopRequest', 'StopResponse'],
  ['ActionsService', 'PauseMining', 'U', 'PauseMiningRequest', 'PauseMiningResponse'],
  ['ActionsService', 'ResumeMining', 'U', 'ResumeMiningRequest', 'ResumeMiningResponse'],
  ['ActionsService', 'Restart', 'U', 'RestartRequest', 'RestartResponse'],
  ['ActionsService', 'Reboot', 'U', 'RebootRequest', 'RebootResponse'],
  ['ActionsService', 'FactoryReset', 'U', 'FactoryResetRequest', 'FactoryResetResponse'],
  [
    'ActionsService',
    'SetLocateDeviceStatus',
    'U',
    'SetLocateDeviceStatusRequest',
    'LocateDeviceStatusResponse',
  ],
  [
    'ActionsService',
    'GetLocateDeviceStatus',
    'U',
    'GetLocateDeviceStatusRequest',
    'LocateDeviceStatusResponse',
  ],
  ['MinerService', 'GetMinerStatus', 'SS', 'GetMinerStatusRequest', 'GetMinerStatusResponse'],
  ['MinerService', 'GetMinerDetails', 'U', 'GetMinerDetailsRequest', 'GetMinerDetailsResponse'],
  ['MinerService', 'GetMinerStats', 'U', 'GetMinerStatsRequest', 'GetMinerStatsResponse'],
  ['MinerService', 'GetErrors', 'U', 'GetErrorsRequest', 'GetErrorsResponse'],
  ['MinerService', 'GetHashboards', 'U', 'GetHashboardsRequest', 'GetHashboardsResponse'],
  ['MinerService', 'GetSupportArchive', 'SS', 'GetSupportArchiveRequest', 'GetSupportArchiveResponse'],
  ['MinerService', 'GetLog', 'SS', 'GetLogRequest', 'GetLogResponse'],
  ['MinerService', 'EnableHashboards', 'U', 'EnableHashboardsRequest', 'EnableHashboardsResponse'],
  ['MinerService', 'DisableHashboards', 'U', 'DisableHashboardsRequest', 'DisableHashboardsResponse'],
  ['CoolingService', 'GetCoolingState', 'U', 'GetCoolingStateRequest', 'GetCoolingStateResponse'],
  ['CoolingService', 'SetImmersionMode', 'U', 'SetImmersionModeRequest', 'SetImmersionModeResponse'],
  ['CoolingService', 'SetCoolingMode', 'U', 'SetCoolingModeRequest', 'SetCoolingModeResponse'],
  ['PerformanceService', 'GetTunerState', 'U', 'GetTunerStateRequest', 'GetTunerStateResponse'],
  [
    'PerformanceService',
    'ListTargetProfiles',
    'U',
    'ListTargetProfilesRequest',
    'ListTargetProfilesResponse',
  ],
  [
    'PerformanceService',
    'GetMinerEfficiencyProfile',
    'U',
    'GetMinerEfficiencyProfileRequest',
    'GetMinerEfficiencyProfileResponse',
  ],
  [
    'PerformanceService',
    'SetDefaultPowerTarget',
    'U',
    'SetDefaultPowerTargetRequest',
    'SetPowerTargetResponse',
  ],
  ['PerformanceService', 'SetPowerTarget', 'U', 'SetPowerTargetRequest', 'SetPowerTargetResponse'],
  [
    'PerformanceService',
    'IncrementPowerTarget',
    'U',
    'IncrementPowerTargetRequest',
    'SetPowerTargetResponse',
  ],
  [
    'PerformanceService',
    'DecrementPowerTarget',
    'U',
    'DecrementPowerTargetRequest',
    'SetPowerTargetResponse',
  ],
  ['PerformanceService', 'SetRelativePowerTarget', 'U', 'SetRelativeTargetRequest', 'SetPowerTargetResponse'],
  [
    'PerformanceService',
    'SetDefaultHashrateTarget',
    'U',
    'SetDefaultHashrateTargetRequest',
    'SetHashrateTargetResponse',
  ],
  ['PerformanceService', 'SetHashrateTarget', 'U', 'SetHashrateTargetRequest', 'SetHashrateTargetResponse'],
  [
    'PerformanceService',
    'IncrementHashrateTarget',
    'U',
    'IncrementHashrateTargetRequest',
    'SetHashrateTargetResponse',
  ],
  [
    'PerformanceService',
    'DecrementHashrateTarget',
    'U',
    'DecrementHashrateTargetRequest',
    'SetHashrateTargetResponse',
  ],
  [
    'PerformanceService',
    'SetRelativeHashrateTarget',
    'U',
    'SetRelativeTargetRequest',
    'SetHashrateTargetResponse',
  ],
  ['PerformanceService', 'SetDPS', 'U', 'SetDPSRequest', 'SetDPSResponse'],
  ['PerformanceService', 'SetPerformanceMode', 'U', 'SetPerformanceModeRequest', 'PerformanceMode'],
  ['PerformanceService', 'GetActivePerformanceMode', 'U', 'GetPerformanceModeRequest', 'PerformanceMode'],
  [
    'PerformanceService',
    'RemoveTunedProfiles',
    'U',
    'RemoveTunedProfilesRequest',
    'RemoveTunedProfilesResponse',
  ],
  ['PerformanceService', 'SetQuickRamping', 'U', 'SetQuickRampingRequest', 'QuickRampingResponse'],
  [
    'PerformanceService',
    'SetDefaultQuickRamping',
    'U',
    'SetDefaultQuickRampingRequest',
    'QuickRampingResponse',
  ],
  ['PoolService', 'GetPoolGroups', 'U', 'GetPoolGroupsRequest', 'GetPoolGroupsResponse'],
  ['PoolService', 'CreatePoolGroup', 'U', 'CreatePoolGroupRequest', 'CreatePoolGroupResponse'],
  ['PoolService', 'UpdatePoolGroup', 'U', 'UpdatePoolGroupRequest', 'UpdatePoolGroupResponse'],
  ['PoolService', 'RemovePoolGroup', 'U', 'RemovePoolGroupRequest', 'RemovePoolGroupResponse'],
  ['PoolService', 'SetPoolGroups', 'U', 'SetPoolGroupsRequest', 'SetPoolGroupsResponse'],
  [
    'ConfigurationService',
    'GetMinerConfiguration',
    'U',
    'GetMinerConfigurationRequest',
    'GetMinerConfigurationResponse',
  ],
  ['ConfigurationService', 'GetConstraints', 'U', 'GetConstraintsRequest', 'GetConstraintsResponse'],
  ['LicenseService', 'GetLicenseState', 'U', 'GetLicenseStateRequest', 'GetLicenseStateResponse'],
  ['LicenseService', 'ApplyContractKey', 'U', 'ApplyContractKeyRequest', 'ApplyContractKeyResponse'],
  [
    'NetworkService',
    'GetNetworkConfiguration',
    'U',
    'GetNetworkConfigurationRequest',
    'GetNetworkConfigurationResponse',
  ],
  [
    'NetworkService',
    'SetNetworkConfiguration',
    'U',
    'SetNetworkConfigurationRequest',
    'SetNetworkConfigurationResponse',
  ],
  ['NetworkService', 'GetNetworkInfo', 'U', 'GetNetworkInfoRequest', 'GetNetworkInfoResponse'],
  [
    'UpgradeService',
    'UpdateAutoUpgradeConfig',
    'U',
    'UpdateAutoUpgradeConfigRequest',
    'UpdateAutoUpgradeConfigResponse',
  ],
  [
    'UpgradeService',
    'GetAutoUpgradeStatus',
    'U',
    'GetAutoUpgradeStatusRequest',
    'GetAutoUpgradeStatusResponse',
  ],
  ['UpgradeService', 'SystemUpgrade', 'CS', 'SystemUpgradeRequest', 'SystemUpgradeResponse'],
  ['UpgradeService', 'RestoreStock', 'U', 'RestoreStockRequest', 'RestoreStockResponse'],
  [
    'AdvancedSettingsService',
    'GetSettingsSchema',
    'U',
    'GetSettingsSchemaRequest',
    'GetSettingsSchemaResponse',
  ],
  ['AdvancedSettingsService', 'GetSettings', 'U', 'GetSettingsRequest', 'GetSettingsResponse'],
  ['AdvancedSettingsService', 'SetSettings', 'U', 'SetSettingsRequest', 'SetSettingsResponse'],
  ['AdvancedSettingsService', 'ResetAllSettings', 'U', 'ResetAllSettingsRequest', 'ResetAllSettingsResponse'],
];

const DEPRECATED_RPCS = new Set(['CoolingService/SetImmersionMode']);

// Which file declares each service (§2 file inventory).
const SERVICE_FILES: Record<string, string> = {
  ApiVersionService: 'bos/version.proto',
  ActionsService: 'bos/v1/actions.proto',
  AdvancedSettingsService: 'bos/v1/advanced_settings.proto',
  AuthenticationService: 'bos/v1/authentication.proto',
  ConfigurationService: 'bos/v1/configuration.proto',
  CoolingService: 'bos/v1/cooling.proto',
  LicenseService: 'bos/v1/license.proto',
  MinerService: 'bos/v1/miner.proto',
  NetworkService: 'bos/v1/network.proto',
  UpgradeService: 'bos/v1/upgrade.proto',
  PerformanceService: 'bos/v1/performance.proto',
  PoolService: 'bos/v1/pool.proto',
};

const SCALARS = new Set([
  'double',
  'float',
  'int32',
  'int64',
  'uint32',
  'uint64',
  'sint32',
  'sint64',
  'fixed32',
  'fixed64',
  'sfixed32',
  'sfixed64',
  'bool',
  'string',
  'bytes',
]);

interface FieldShape {
  id: number;
  name: string;
  type: string;
  label: string;
  deprecated: boolean;
}

function qualify(typeName: string, pkg: string): string {
  if (typeName.startsWith('gp.')) return `google.protobuf.${typeName.slice(3)}`;
  if (SCALARS.has(typeName) || typeName.includes('.')) return typeName;
  return `${pkg}.${typeName}`;
}

function parseName(key: string): { name: string; deprecated: boolean } {
  const [name = '', flag] = key.split(' ');
  return { name, deprecated: flag === 'deprecated' };
}

function expectedFields(spec: string, pkg: string): FieldShape[] {
  if (spec === '') return [];
  return spec
    .split('; ')
    .map(part => {
      const [id, name, type, ...flags] = part.split(' ');
      if (!id || !name || !type) throw new Error(`bad table entry: ${part}`);
      const label = flags.find(f => f !== 'deprecated') ?? 'singular';
      return {
        id: Number(id),
        name,
        type: qualify(type, pkg),
        label,
        deprecated: flags.includes('deprecated'),
      };
    })
    .sort((a, b) => a.id - b.id);
}

function actualFields(type: protobuf.Type): FieldShape[] {
  return type.fieldsArray
    .map(field => {
      const options = field.options ?? {};
      let label = 'singular';
      if (field.repeated) label = 'repeated';
      else if (options.proto3_optional === true) label = 'optional';
      else if (field.partOf) label = `oneof:${field.partOf.name}`;
      const resolved = field.resolvedType;
      return {
        id: field.id,
        name: field.name,
        type: resolved ? resolved.fullName.replace(/^\./, '') : field.type,
        label,
        deprecated: options.deprecated === true,
      };
    })
    .sort((a, b) => a.id - b.id);
}

function fileOf(obj: protobuf.ReflectionObject): string | null {
  return obj.filename ? obj.filename.slice(PROTO_ROOT.length + 1) : null;
}

function collect(
  ns: protobuf.NamespaceBase,
  out: protobuf.ReflectionObject[] = [],
): protobuf.ReflectionObject[] {
  for (const nested of ns.nestedArray) {
    out.push(nested);
    if (nested instanceof protobuf.Namespace) collect(nested, out);
  }
  return out;
}

const root = loadProtoRoot();
const braiins = root.lookup('braiins') as protobuf.Namespace;
const all = collect(braiins);
const servicePkg = (service: string) => (service === 'ApiVersionService' ? 'braiins.bos' : 'braiins.bos.v1');

const messageRows = Object.entries(WIRE).flatMap(([file, { pkg, messages }]) =>
  Object.entries(messages).map(([key, spec]) => ({ file, pkg, ...parseName(key), spec })),
);
const enumRows = Object.entries(WIRE).flatMap(([file, { pkg, enums }]) =>
  Object.entries(enums ?? {}).map(([key, spec]) => ({ file, pkg, ...parseName(key), spec })),
);

describe('proto files', () => {
  it('exist exactly as in the real API layout, all loaded from PROTO_ROOT', () => {
    const ours = root.files.filter(f => f.startsWith(PROTO_ROOT)).map(f => f.slice(PROTO_ROOT.length + 1));
    expect(ours.sort()).toEqual([...PROTO_FILES].sort());
    expect([...PROTO_FILES].sort()).toEqual(Object.keys(WIRE).sort());
    expect(root.files.filter(f => f.startsWith('google/')).sort()).toEqual([
      'google/protobuf/struct.proto',
      'google/protobuf/timestamp.proto',
      'google/protobuf/wrappers.proto',
    ]);
  });

  it('declare exactly the 197 messages, 20 enums and 12 services of API 1.11.0', () => {
    const fullNames = (pred: (o: protobuf.ReflectionObject) => boolean) =>
      all
        .filter(pred)
        .map(o => o.fullName.slice(1))
        .sort();
    const expectedMessages = messageRows.map(r => `${r.pkg}.${r.name}`).sort();
    const expectedEnums = enumRows.map(r => `${r.pkg}.${r.name}`).sort();
    expect(expectedMessages).toHaveLength(197);
    expect(expectedEnums).toHaveLength(20);
    expect(fullNames(o => o instanceof protobuf.Type)).toEqual(expectedMessages);
    expect(fullNames(o => o instanceof protobuf.Enum)).toEqual(expectedEnums);
    expect(fullNames(o => o instanceof protobuf.Service)).toEqual(
      Object.keys(SERVICE_FILES)
        .map(s => `${servicePkg(s)}.${s}`)
        .sort(),
    );
  });
});

describe('messages', () => {
  it.each(messageRows)('message $name in $file', ({ file, pkg, name, deprecated, spec }) => {
    const type = root.lookupType(`${pkg}.${name}`);
    expect(fileOf(type)).toBe(file);
    expect(actualFields(type)).toEqual(expectedFields(spec, pkg));
    expect(type.options?.deprecated === true).toBe(deprecated);

    // Real oneofs (not the synthetic `_x` ones behind proto3 optional) hold exactly the table's members.
    const realOneofs = Object.fromEntries(
      type.oneofsArray
        .filter(o => !o.fieldsArray.every(f => f.options?.proto3_optional === true))
        .map(o => [o.name, o.oneof.slice().sort()]),
    );
    const expectedOneofs: Record<string, string[]> = {};
    for (const field of expectedFields(spec, pkg)) {
      if (field.label.startsWith('oneof:')) (expectedOneofs[field.label.slice(6)] ??= []).push(field.name);
    }
    for (const members of Object.values(expectedOneofs)) members.sort();
    expect(realOneofs).toEqual(expectedOneofs);
  });
});

describe('enums', () => {
  it.each(enumRows)('enum $name in $file', ({ file, pkg, name, deprecated, spec }) => {
    const en = root.lookupEnum(`${pkg}.${name}`);
    expect(fileOf(en)).toBe(file);
    const values = spec.split(', ').map(v => {
      const [pair = '', flag] = v.split(' ');
      const [valueName = '', num] = pair.split('=');
      return { valueName, num: Number(num), deprecated: flag === 'deprecated' };
    });
    expect(en.values).toEqual(Object.fromEntries(values.map(v => [v.valueName, v.num])));
    for (const v of values) {
      expect(en.valuesOptions?.[v.valueName]?.deprecated === true, v.valueName).toBe(v.deprecated);
    }
    expect(en.options?.deprecated === true).toBe(deprecated);
  });

  it('enumValues() exposes the numbers at runtime', () => {
    expect(enumValues('MinerStatus')).toMatchObject({ MINER_STATUS_NORMAL: 2, MINER_STATUS_RESTRICTED: 5 });
    expect(enumValues('TunerState').TUNER_STATE_PREHEAT).toBe(6);
  });
});

describe('services', () => {
  it('the table lists all 63 RPCs of 12 services', () => {
    expect(RPCS).toHaveLength(63);
    expect(new Set(RPCS.map(r => r[0])).size).toBe(12);
    const declared = all
      .filter((o): o is protobuf.Service => o instanceof protobuf.Service)
      .flatMap(s => s.methodsArray.map(m => `${s.name}/${m.name}`))
      .sort();
    expect(declared).toEqual(RPCS.map(([s, m]) => `${s}/${m}`).sort());
  });

  it.each(RPCS)('%s/%s (%s)', (service, rpc, kind, request, response) => {
    const pkg = servicePkg(service);
    const svc = root.lookupService(`${pkg}.${service}`);
    expect(fileOf(svc)).toBe(SERVICE_FILES[service]);
    const method = svc.methods[rpc];
    expect(method, `${service}/${rpc}`).toBeDefined();
    if (!method) return;
    method.resolve();
    expect({
      requestType: method.resolvedRequestType?.fullName.slice(1),
      responseType: method.resolvedResponseType?.fullName.slice(1),
      requestStream: method.requestStream === true,
      responseStream: method.responseStream === true,
      deprecated: method.options?.deprecated === true,
    }).toEqual({
      requestType: `${pkg}.${request}`,
      responseType: `${pkg}.${response}`,
      requestStream: kind === 'CS',
      responseStream: kind === 'SS',
      deprecated: DEPRECATED_RPCS.has(`${service}/${rpc}`),
    });
  });
});

describe('grpc package (proto-loader)', () => {
  it('uses the documented loader options', () => {
    expect(LOADER_OPTIONS).toMatchObject({
      keepCase: true,
      longs: Number,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    expect(LOADER_OPTIONS.includeDirs).toEqual([PROTO_ROOT]);
  });

  it('loadBosPackage() yields service definitions with full method paths and streaming kinds', () => {
    const pkg = loadBosPackage();
    const v1 = ((pkg.braiins as grpc.GrpcObject).bos as grpc.GrpcObject).v1 as grpc.GrpcObject;
    const versionSvc = ((pkg.braiins as grpc.GrpcObject).bos as grpc.GrpcObject)
      .ApiVersionService as grpc.ServiceClientConstructor;
    const minerSvc = v1.MinerService as grpc.ServiceClientConstructor;
    expect(minerSvc.service.GetMinerStats?.path).toBe('/braiins.bos.v1.MinerService/GetMinerStats');
    expect(versionSvc.service.GetApiVersion?.path).toBe('/braiins.bos.ApiVersionService/GetApiVersion');
    expect(loadBosPackage()).toBe(pkg);

    const services = bosServices();
    expect(Object.keys(services).sort()).toEqual(Object.keys(SERVICE_FILES).sort());
    expect(services.MinerService).toBe(minerSvc);
    for (const [service, rpc, kind] of RPCS) {
      const def = services[service as keyof typeof services].service[rpc];
      expect(def, `${service}/${rpc}`).toBeDefined();
      expect(def?.path).toBe(`/${BOS_SERVICE_FULL_NAMES[service as keyof typeof services]}/${rpc}`);
      expect(def?.path).toBe(`/${servicePkg(service)}.${service}/${rpc}`);
      expect([def?.requestStream, def?.responseStream]).toEqual([kind === 'CS', kind === 'SS']);
    }
  });
});

describe('encode/decode', () => {
  const stats: GetMinerStatsResponseInput = {
    pool_stats: {
      accepted_shares: 123456,
      rejected_shares: 12,
      stale_shares: 3,
      last_difficulty: 65536,
      generated_work: 9_007_199_254_740_000,
      last_share_time: { seconds: 1_747_000_000, nanos: 5 },
      best_share_str: '123456789012345678901234',
    },
    miner_stats: {
      real_hashrate: {
        last_5s: { gigahash_per_second: 101_000.5 },
        last_1m: { gigahash_per_second: 100_500 },
      },
      nominal_hashrate: { gigahash_per_second: 104_000 },
      error_hashrate: { megahash_per_second: 12.5 },
      found_blocks: 1,
    },
    power_stats: { approximated_consumption: { watt: 3250 }, efficiency: { joule_per_terahash: 32.3 } },
  };

  const decodedStats: GetMinerStatsResponse = {
    pool_stats: {
      accepted_shares: 123456,
      rejected_shares: 12,
      stale_shares: 3,
      last_difficulty: 65536,
      best_share: 0,
      generated_work: 9_007_199_254_740_000,
      last_share_time: { seconds: 1_747_000_000, nanos: 5 },
      _last_share_time: 'last_share_time',
      best_share_str: '123456789012345678901234',
    },
    miner_stats: {
      real_hashrate: {
        last_5s: { gigahash_per_second: 101_000.5 },
        last_15s: null,
        last_30s: null,
        last_1m: { gigahash_per_second: 100_500 },
        last_5m: null,
        last_15m: null,
        last_30m: null,
        last_1h: null,
        last_24h: null,
        since_restart: null,
      },
      nominal_hashrate: { gigahash_per_second: 104_000 },
      error_hashrate: { megahash_per_second: 12.5 },
      found_blocks: 1,
      best_share: 0,
      best_share_str: '',
    },
    power_stats: { approximated_consumption: { watt: 3250 }, efficiency: { joule_per_terahash: 32.3 } },
  };

  it('GetMinerStatsResponse round-trips through the grpc serializers with snake_case keys', () => {
    const def = bosServices().MinerService.service.GetMinerStats;
    const bytes = def.responseSerialize(stats);
    expect(def.responseDeserialize(bytes)).toEqual(decodedStats);
    // protobufjs Root path gives the same bytes and the same object.
    expect(Buffer.from(encodeMessage('GetMinerStatsResponse', stats))).toEqual(bytes);
    expect(decodeMessage('GetMinerStatsResponse', bytes)).toEqual(decodedStats);
  });

  it('Power is uint64 on the wire and decodes to a number', () => {
    const power = root.lookupType('braiins.bos.v1.Power');
    expect(power.fields.watt?.type).toBe('uint64');
    const big = 2 ** 40;
    expect(decodeMessage('Power', encodeMessage('Power', { watt: big }))).toEqual({ watt: big });
  });

  it('decoded Hashboard: absent optionals are missing, absent messages are null, oneof markers appear', () => {
    const bytes = encodeMessage('Hashboard', {
      id: '6',
      enabled: true,
      chips_count: { value: 63 },
      board_temp: { degree_c: 55.5 },
      highest_chip_temp: { location: 'SENSOR_LOCATION_CHIP', temperature: { degree_c: 71 } },
      model: 'BHB42601',
    });
    const decoded = decodeMessage<Hashboard>('Hashboard', bytes);
    expect(decoded).toEqual({
      id: '6',
      enabled: true,
      chips_count: { value: 63 },
      current_voltage: null,
      current_frequency: null,
      highest_chip_temp: { location: 'SENSOR_LOCATION_CHIP', temperature: { degree_c: 71 } },
      board_temp: { degree_c: 55.5 },
      stats: null,
      model: 'BHB42601',
      _model: 'model',
      lowest_inlet_temp: null,
      highest_outlet_temp: null,
    } satisfies Hashboard);
    expect('serial_number' in decoded).toBe(false);
    expect('lowest_water_inlet_temp' in decoded).toBe(false);
  });

  it('decoded GetTunerStateResponse: the oneof member is present only when set, plus a mode_state marker', () => {
    const type = 'GetTunerStateResponse';
    expect(decodeMessage(type, new Uint8Array())).toEqual({ overall_tuner_state: 'TUNER_STATE_UNSPECIFIED' });
    const bytes = encodeMessage(type, {
      overall_tuner_state: 'TUNER_STATE_STABLE',
      power_target_mode_state: { current_target: { watt: 3250 } },
    });
    expect(decodeMessage(type, bytes)).toEqual({
      overall_tuner_state: 'TUNER_STATE_STABLE',
      power_target_mode_state: { profile: null, current_target: { watt: 3250 } },
      mode_state: 'power_target_mode_state',
    } satisfies GetTunerStateResponse);
  });

  it('serves and calls a typed MinerService over a real channel', async () => {
    const { MinerService } = bosServices();
    // Pick, not Partial: Partial adds `| undefined`, which grpc's UntypedServiceImplementation rejects.
    const handlers: Pick<MinerServiceHandlers, 'GetMinerStats'> = {
      GetMinerStats: (_call, callback) => callback(null, stats),
    };
    const server = new grpc.Server();
    server.addService(MinerService.service, handlers);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    const client = new MinerService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const reply = await new Promise<GetMinerStatsResponse>((resolve, reject) =>
        client.GetMinerStats({}, (err, value) => (err || !value ? reject(err) : resolve(value))),
      );
      expect(reply).toEqual(decodedStats);
    } finally {
      client.close();
      server.forceShutdown();
    }
  });
});

describe('types', () => {
  it('aliases have the decoded/input shapes', () => {
    expectTypeOf<MinerStatus>().toEqualTypeOf<
      | 'MINER_STATUS_UNSPECIFIED'
      | 'MINER_STATUS_NOT_STARTED'
      | 'MINER_STATUS_NORMAL'
      | 'MINER_STATUS_PAUSED'
      | 'MINER_STATUS_SUSPENDED'
      | 'MINER_STATUS_RESTRICTED'
    >();
    expectTypeOf<GetTunerStateResponse['overall_tuner_state']>().toEqualTypeOf<TunerState>();
    expectTypeOf<GetMinerStatsResponse['power_stats']>().toMatchTypeOf<{
      approximated_consumption: { watt: number } | null;
    } | null>();
    expectTypeOf<{
      save_action: 'SAVE_ACTION_SAVE_AND_FORCE_APPLY';
      power_target: { watt: 3000 };
    }>().toMatchTypeOf<SetPowerTargetRequest>();
  });
});
