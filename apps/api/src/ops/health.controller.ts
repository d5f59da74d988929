import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { Public } from '@mintline/access/access.decorators';
import { ApiError } from '@mintline/common/errors/api-error';
import { ApiErrorResponse } from '@mintline/common/openapi/api-error-response';

const READY_TIMEOUT_MS = 2000;

class LivenessView {
  @ApiProperty({ enum: ['ok'] })
  status: 'ok';
}

class ReadinessView {
  @ApiProperty({ enum: ['ok'] })
  status: 'ok';

  @ApiProperty({ enum: ['up'] })
  database: 'up';
}

@ApiTags('Operations')
@Controller('health')
export class HealthController {
  constructor(private readonly dataSource: DataSource) {}

  @Get()
  @Public()
  @ApiOperation({ summary: 'Liveness: the process is serving' })
  @ApiOkResponse({ type: LivenessView })
  live(): LivenessView {
    return { status: 'ok' };
  }

  @Get('ready')
  @Public()
  @ApiOperation({ summary: 'Readiness: the database answers' })
  @ApiOkResponse({ type: ReadinessView })
  @ApiErrorResponse(503, 'UNAVAILABLE: the database is unreachable')
  async ready(): Promise<ReadinessView> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(ApiError.unavailable('Database did not answer in time')), READY_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.dataSource.query('SELECT 1'), timeout]);
      return { status: 'ok', database: 'up' };
    } catch {
      throw ApiError.unavailable('Database unreachable');
    } finally {
      clearTimeout(timer);
    }
  }
}
