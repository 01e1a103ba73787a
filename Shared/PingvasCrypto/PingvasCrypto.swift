import COpenSSL
import JWTKit
package enum PingvasCryptoModule {}
